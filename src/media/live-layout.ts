/** One tile of the live composite. */
export interface LiveTile {
  /** Participant id, or `<id>:screen` for a screen share. */
  id: string;
  screen: boolean;
  x: number;
  y: number;
  w: number;
  h: number;
}

const even = (n: number) => Math.max(2, Math.floor(n / 2) * 2);

/**
 * The composite's layout, as the mix-down lays it out: participants in a grid as square as
 * possible; with a screen share, the share takes the main tile (3/4 of the width) and the
 * participants are stacked beside it. Tiles have even sizes and positions (yuv420p). Pure.
 */
export function liveLayout(participants: readonly string[], screen: string | undefined, width: number, height: number): LiveTile[] {
  if (screen !== undefined) {
    const mainW = even((width * 3) / 4);
    const sideW = width - mainW;
    const n = Math.max(1, participants.length);
    const h = even(Math.min((sideW * 9) / 16, height / n));
    const top = Math.max(0, Math.floor((height - h * participants.length) / 4) * 2);
    return [
      { id: `${screen}:screen`, screen: true, x: 0, y: 0, w: mainW, h: height },
      ...participants.map((id, i) => ({ id, screen: false, x: mainW, y: top + i * h, w: even(sideW), h })),
    ];
  }
  const n = participants.length;
  if (n === 0) return [];
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const w = even(width / cols);
  const h = even(height / rows);
  return participants.map((id, i) => ({ id, screen: false, x: (i % cols) * w, y: Math.floor(i / cols) * h, w, h }));
}
