import { randomBytes } from 'node:crypto';
import type { RTCDataChannel } from 'werift';
import { describe, expect, it } from 'vitest';
import {
  FILE_TRANSFER_MAX_BURST,
  FILE_TRANSFER_MIN_SSTHRESH,
  delayWeriftSctpAcks,
  floorWeriftSctpSsthresh,
  fromWeriftDataChannel,
  raiseWeriftSctpBurst,
} from '../../src/files/index.js';
import { openRawWeriftPair } from './helpers.js';

/** The SCTP association under a werift channel, as far as these tests look into it. */
interface SctpInternals {
  maxBurst?: number;
  delayedAck?: boolean;
  minSsthresh?: number;
  ssthresh?: number;
  sackNeeded: boolean;
  sackTimeout?: unknown;
  cwnd: number;
  sendChunk(chunk: { type: number }): Promise<void>;
  receiveSackChunk(chunk: unknown): Promise<void>;
}
const sctpOf = (dc: RTCDataChannel) => (dc as unknown as { sctp: { sctp: SctpInternals } }).sctp.sctp;

const DATA_CHUNK = 0;
const SACK_CHUNK = 3;

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

/**
 * Sends `messages` 60 000-byte chunks one after the other (the next once the previous arrived, like a
 * stop-and-wait downloader) and counts the SACKs the receiving side sent. Also checks that after each
 * message nothing is left waiting for the delayed-ACK timer: the last fragment is acked at once.
 */
async function sacksForMessages(dc: RTCDataChannel, rdc: RTCDataChannel, messages: number): Promise<{ sacks: number; dataPackets: number; leftPending: number }> {
  const receiver = sctpOf(rdc);
  const sender = sctpOf(dc);
  sender.cwnd = 256 * 1024; // an open window, as after a few chunks
  let sacks = 0;
  let dataPackets = 0;
  let leftPending = 0;
  const sendSack = receiver.sendChunk.bind(receiver);
  receiver.sendChunk = (chunk) => {
    if (chunk.type === SACK_CHUNK) sacks++;
    return sendSack(chunk);
  };
  const sendData = sender.sendChunk.bind(sender);
  sender.sendChunk = (chunk) => {
    if (chunk.type === DATA_CHUNK) dataPackets++;
    return sendData(chunk);
  };
  for (let i = 0; i < messages; i++) {
    const arrived = new Promise<void>((resolve) => {
      const sub = rdc.onMessage.subscribe(() => {
        sub.unSubscribe();
        resolve();
      });
    });
    dc.send(randomBytes(60_012));
    await arrived;
    await new Promise((resolve) => setImmediate(resolve)); // the packet's handling finishes
    if (receiver.sackNeeded || receiver.sackTimeout !== undefined) leftPending++;
  }
  return { sacks, dataPackets, leftPending };
}

describe('werift SCTP delayed SACK (patches/werift+0.24.4.patch)', () => {
  it("is off by default: werift acks every DATA packet", async () => {
    const { dc, rdc, offererPc, answererPc } = await openRawWeriftPair();
    try {
      expect(sctpOf(rdc).delayedAck).toBe(false); // the patch is applied and keeps werift's behaviour
      const { sacks, dataPackets } = await sacksForMessages(dc, rdc, 4);
      expect(dataPackets).toBe(4 * 51);
      expect(sacks).toBeGreaterThanOrEqual(dataPackets);
    } finally {
      await Promise.all([offererPc.close(), answererPc.close()]);
    }
  });

  it('on, the receiver acks every second packet and at once at each message end', async () => {
    const { dc, rdc, offererPc, answererPc } = await openRawWeriftPair();
    try {
      expect(delayWeriftSctpAcks(rdc)).toBe(true);
      const { sacks, dataPackets, leftPending } = await sacksForMessages(dc, rdc, 4);
      expect(dataPackets).toBe(4 * 51);
      expect(sacks).toBeLessThanOrEqual(4 * 27); // 25 pairs + the message's last fragment (+1 slack)
      expect(leftPending).toBe(0); // the last fragment did not wait for the 200 ms timer
    } finally {
      await Promise.all([offererPc.close(), answererPc.close()]);
    }
  });

  it('fromWeriftDataChannel turns it on for the channels that carry files', async () => {
    const { dc, rdc, offererPc, answererPc } = await openRawWeriftPair();
    fromWeriftDataChannel(dc, { owner: offererPc });
    fromWeriftDataChannel(rdc, { owner: answererPc, delayedAck: false });
    expect(sctpOf(dc).delayedAck).toBe(true);
    expect(sctpOf(rdc).delayedAck).toBe(false);
    expect(delayWeriftSctpAcks({} as never)).toBe(false); // unknown shape: does nothing
    await Promise.all([offererPc.close(), answererPc.close()]);
  });
});

/**
 * The scenario seen with Chromium downloading: the first packet of the first chunk is lost while the
 * window is still small (4 packets). The sender skips that packet's first transmission; the
 * receiver's gap reports make werift retransmit it (fast retransmit). Returns the slow-start
 * threshold right after, and the window after `more` further chunks, one in flight at a time.
 */
async function windowAfterEarlyLoss(dc: RTCDataChannel, rdc: RTCDataChannel, more: number): Promise<{ ssthresh: number; cwnd: number; dropped: number }> {
  const sender = sctpOf(dc);
  raiseWeriftSctpBurst(dc); // as on file channels
  sender.cwnd = 4 * 1200;
  let dropped = 0;
  const sendChunk = sender.sendChunk.bind(sender);
  sender.sendChunk = (chunk) => {
    const data = chunk as { type: number; sentCount?: number; flags?: number };
    if (data.type === DATA_CHUNK && dropped === 0 && data.sentCount === 1 && (data.flags ?? 0) & 0x02) {
      dropped++;
      return Promise.resolve(); // lost on the way
    }
    return sendChunk(chunk);
  };
  const transfer = async (): Promise<void> => {
    const arrived = new Promise<void>((resolve) => {
      const sub = rdc.onMessage.subscribe(() => {
        sub.unSubscribe();
        resolve();
      });
    });
    dc.send(randomBytes(60_012));
    await arrived;
    await new Promise((resolve) => setTimeout(resolve, 5)); // the last SACKs come back
  };
  await transfer();
  const ssthresh = sender.ssthresh!;
  for (let i = 0; i < more; i++) await transfer();
  return { ssthresh, cwnd: sender.cwnd, dropped };
}

describe('werift SCTP slow-start threshold floor (patches/werift+0.24.4.patch)', () => {
  it("is 0 by default: after an early loss the threshold is 4 packets and the window stays below a chunk", async () => {
    const { dc, rdc, offererPc, answererPc } = await openRawWeriftPair();
    try {
      expect(sctpOf(dc).minSsthresh).toBe(0); // the patch is applied and keeps werift's behaviour
      const { ssthresh, cwnd, dropped } = await windowAfterEarlyLoss(dc, rdc, 6);
      expect(dropped).toBe(1);
      expect(ssthresh).toBe(4 * 1200);
      expect(cwnd).toBeLessThan(60_012);
    } finally {
      await Promise.all([offererPc.close(), answererPc.close()]);
    }
  });

  it('floored, the window halves on the loss but is back above a chunk within a few chunks', async () => {
    const { dc, rdc, offererPc, answererPc } = await openRawWeriftPair();
    try {
      expect(floorWeriftSctpSsthresh(dc)).toBe(true);
      const { ssthresh, cwnd, dropped } = await windowAfterEarlyLoss(dc, rdc, 6);
      expect(dropped).toBe(1);
      expect(ssthresh).toBe(FILE_TRANSFER_MIN_SSTHRESH);
      expect(cwnd).toBeGreaterThanOrEqual(60_012);
    } finally {
      await Promise.all([offererPc.close(), answererPc.close()]);
    }
  });

  it('fromWeriftDataChannel sets it on the channels that carry files', async () => {
    const { dc, rdc, offererPc, answererPc } = await openRawWeriftPair();
    fromWeriftDataChannel(dc, { owner: offererPc });
    fromWeriftDataChannel(rdc, { owner: answererPc, minSsthresh: 0 });
    expect(sctpOf(dc).minSsthresh).toBe(FILE_TRANSFER_MIN_SSTHRESH);
    expect(sctpOf(rdc).minSsthresh).toBe(0);
    expect(floorWeriftSctpSsthresh({} as never)).toBe(false); // unknown shape: does nothing
    await Promise.all([offererPc.close(), answererPc.close()]);
  });
});
