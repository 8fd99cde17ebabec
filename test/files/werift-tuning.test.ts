import { randomBytes } from 'node:crypto';
import type { RTCDataChannel } from 'werift';
import { describe, expect, it } from 'vitest';
import { FILE_TRANSFER_MAX_BURST, fromWeriftDataChannel, raiseWeriftSctpBurst } from '../../src/files/index.js';
import { openRawWeriftPair } from './helpers.js';

/** The SCTP association under a werift channel, as far as these tests look into it. */
interface SctpInternals {
  maxBurst?: number;
  cwnd: number;
  sendChunk(chunk: { type: number }): Promise<void>;
  receiveSackChunk(chunk: unknown): Promise<void>;
}
const sctpOf = (dc: RTCDataChannel) => (dc as unknown as { sctp: { sctp: SctpInternals } }).sctp.sctp;

const DATA_CHUNK = 0;

/**
 * Sends one 60 000-byte chunk on an idle association whose congestion window is open (as after a
 * few chunks: werift does not shrink it while idle) and counts the DATA packets that left before
 * the first SACK came back, i.e. in the first transmission. Spies on the real association.
 */
async function packetsInFirstTransmission(dc: RTCDataChannel, rdc: RTCDataChannel): Promise<number> {
  const sctp = sctpOf(dc);
  sctp.cwnd = 256 * 1024;
  let sent = 0;
  let beforeSack: number | undefined;
  const sendChunk = sctp.sendChunk.bind(sctp);
  const receiveSack = sctp.receiveSackChunk.bind(sctp);
  sctp.sendChunk = (chunk) => {
    if (chunk.type === DATA_CHUNK) sent++;
    return sendChunk(chunk);
  };
  sctp.receiveSackChunk = (chunk) => {
    beforeSack ??= sent;
    return receiveSack(chunk);
  };
  const arrived = new Promise<Buffer>((resolve) => rdc.onMessage.subscribe((m) => resolve(m as Buffer)));
  const chunk = randomBytes(60_012);
  dc.send(chunk);
  expect((await arrived).equals(chunk)).toBe(true);
  return beforeSack ?? sent;
}

describe('werift SCTP Max.Burst (patches/werift+0.24.4.patch)', () => {
  it('is 4 packets by default: an idle association sends a 60 000-byte chunk 4 packets at a time', async () => {
    const { dc, rdc, offererPc, answererPc } = await openRawWeriftPair();
    try {
      expect(sctpOf(dc).maxBurst).toBe(4); // the patch is applied and keeps werift's behaviour
      expect(await packetsInFirstTransmission(dc, rdc)).toBe(4);
    } finally {
      await Promise.all([offererPc.close(), answererPc.close()]);
    }
  });

  it('raised to FILE_TRANSFER_MAX_BURST, the whole chunk (51 packets) leaves in one transmission', async () => {
    const { dc, rdc, offererPc, answererPc } = await openRawWeriftPair();
    try {
      expect(raiseWeriftSctpBurst(dc)).toBe(true);
      expect(sctpOf(dc).maxBurst).toBe(FILE_TRANSFER_MAX_BURST);
      expect(await packetsInFirstTransmission(dc, rdc)).toBe(51);
    } finally {
      await Promise.all([offererPc.close(), answererPc.close()]);
    }
  });

  it('fromWeriftDataChannel raises it on the channels that carry files', async () => {
    const { dc, rdc, offererPc, answererPc } = await openRawWeriftPair();
    fromWeriftDataChannel(dc, { owner: offererPc });
    fromWeriftDataChannel(rdc, { owner: answererPc, maxBurst: 4 });
    expect(sctpOf(dc).maxBurst).toBe(FILE_TRANSFER_MAX_BURST);
    expect(sctpOf(rdc).maxBurst).toBe(4);
    expect(raiseWeriftSctpBurst({} as never)).toBe(false); // unknown shape: does nothing
    await Promise.all([offererPc.close(), answererPc.close()]);
  });
});
