/** A yuv420p picture: Y plane, then U, then V. */
export interface YuvFrame {
  width: number;
  height: number;
  data: Buffer;
}

/** Bytes of a yuv420p frame. Pure. */
export function yuvSize(width: number, height: number): number {
  return width * height + 2 * (width / 2) * (height / 2);
}

/** A new frame filled with one colour (default: dark grey). */
export function solidFrame(width: number, height: number, y = 40, u = 128, v = 128): YuvFrame {
  const data = Buffer.alloc(yuvSize(width, height));
  data.fill(y, 0, width * height);
  data.fill(u, width * height, width * height * 1.25);
  data.fill(v, width * height * 1.25);
  return { width, height, data };
}

function plane(f: YuvFrame, p: 0 | 1 | 2): { offset: number; w: number; h: number } {
  const lw = f.width * f.height;
  if (p === 0) return { offset: 0, w: f.width, h: f.height };
  return { offset: p === 1 ? lw : lw * 1.25, w: f.width / 2, h: f.height / 2 };
}

/**
 * Draws `src` scaled (nearest neighbour) into `dst` at x,y,w,h (even values). Cheap enough for
 * 640x360 at 15 fps in JavaScript: one index lookup per output pixel.
 */
export function blit(dst: YuvFrame, src: YuvFrame, x: number, y: number, w: number, h: number): void {
  for (const p of [0, 1, 2] as const) {
    const d = plane(dst, p);
    const s = plane(src, p);
    const k = p === 0 ? 1 : 2;
    const [px, py, pw, ph] = [x / k, y / k, Math.min(w / k, d.w - x / k), Math.min(h / k, d.h - y / k)];
    const xs = new Int32Array(pw);
    for (let i = 0; i < pw; i++) xs[i] = Math.floor((i * s.w) / (w / k));
    for (let j = 0; j < ph; j++) {
      const sRow = s.offset + Math.floor((j * s.h) / (h / k)) * s.w;
      const dRow = d.offset + (py + j) * d.w + px;
      for (let i = 0; i < pw; i++) dst.data[dRow + i] = src.data[sRow + xs[i]!]!;
    }
  }
}

/** Draws a `t`-pixel yellow border inside x,y,w,h (the active speaker's highlight). */
export function border(dst: YuvFrame, x: number, y: number, w: number, h: number, t = 4): void {
  const yellow = solidFrame(2, 2, 210, 16, 146);
  blit(dst, yellow, x, y, w, t);
  blit(dst, yellow, x, y + h - t, w, t);
  blit(dst, yellow, x, y, t, h);
  blit(dst, yellow, x + w - t, y, t, h);
}

/** Mixes s16le chunks of equal length into `out` (sum, clipped). */
export function mixPcm(out: Buffer, inputs: readonly Buffer[]): void {
  const n = out.length >> 1;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (const b of inputs) sum += b.readInt16LE(i * 2);
    out.writeInt16LE(sum > 32767 ? 32767 : sum < -32768 ? -32768 : sum, i * 2);
  }
}
