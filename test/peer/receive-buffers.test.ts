import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RTCPeerConnection } from 'werift';
import { answerPolicy, raiseReceiveBuffers, RECEIVE_BUFFER_BYTES } from '../../src/peer/index.js';
import { Hub } from './hub.js';
import { connectedCall, useBots } from './util.js';

const bot = useBots();

/** Receive buffer sizes the kernel reports for the UDP sockets of `pc` (twice what was set, per Linux). */
function receiveBuffers(pc: RTCPeerConnection): number[] {
  type Socket = { getRecvBufferSize(): number };
  const transports = (pc as unknown as { iceTransports: { connection: { protocols: { transport: { socket: Socket } }[] } }[] }).iceTransports;
  return transports.flatMap((t) => t.connection.protocols.map((p) => p.transport.socket.getRecvBufferSize()));
}

const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
const rmemDefault = Number(readFileSync('/proc/sys/net/core/rmem_default', 'utf8'));

describe('UDP receive buffers of calls', () => {
  it.skipIf(rmemMax <= rmemDefault)('both ends of a call ask the kernel for 4 MiB (capped at net.core.rmem_max), not its default', async () => {
    const hub = new Hub();
    const { call, callee } = await connectedCall(bot(hub, 'A'), bot(hub, 'B', { answer: answerPolicy({ kind: 'everyone' }) }), 'B');
    const expected = 2 * Math.min(RECEIVE_BUFFER_BYTES, rmemMax); // Linux doubles SO_RCVBUF for bookkeeping
    for (const pc of [call.peerConnection!, callee.peerConnection!]) {
      const sizes = receiveBuffers(pc);
      expect(sizes.length).toBeGreaterThan(0);
      for (const size of sizes) expect(size).toBe(expected);
    }
  });

  it('leaves a peer connection whose werift internals it does not know alone', () => {
    expect(raiseReceiveBuffers({} as RTCPeerConnection)).toBe(0);
    expect(raiseReceiveBuffers({ iceTransports: [{ connection: { protocols: [{ transport: {} }] } }] } as unknown as RTCPeerConnection)).toBe(0);
  });
});
