import type { CandidateMap } from '../protocol/index.js';

/** An ICE candidate as werift's `addIceCandidate` takes it. */
export interface IceCandidateInit {
  candidate: string;
  sdpMid?: string;
  sdpMLineIndex?: number;
}

/**
 * Normalises a received candidate payload: strips an `a=` prefix and CR/LF (old clients send
 * `a=candidate:...\r\n`, PROTOCOL-NOTES §3.1). Returns undefined for an empty candidate.
 */
export function fromCandidateMap(map: CandidateMap): IceCandidateInit | undefined {
  const candidate = map.candidate.replace(/[\r\n]+/g, '').trim().replace(/^a=/, '');
  if (!candidate) return undefined;
  const init: IceCandidateInit = { candidate };
  if (typeof map.sdpMid === 'string') init.sdpMid = map.sdpMid;
  if (typeof map.sdpMLineIndex === 'number') init.sdpMLineIndex = map.sdpMLineIndex;
  return init;
}

/**
 * Builds the web client's candidate payload `{type:"candidate", sdpMLineIndex, sdpMid, candidate}`
 * (no `a=` prefix), plus `_token`/`_id` for token connections.
 */
export function toCandidateMap(
  c: { candidate?: string; sdpMid?: string | null; sdpMLineIndex?: number | null },
  token?: { _token: string; _id: number | string },
): CandidateMap {
  const candidate = (c.candidate ?? '').replace(/^a=/, '').replace(/[\r\n]+/g, '');
  return {
    type: 'candidate',
    sdpMLineIndex: c.sdpMLineIndex ?? 0,
    sdpMid: c.sdpMid ?? '0',
    candidate,
    ...(token ?? {}),
  };
}
