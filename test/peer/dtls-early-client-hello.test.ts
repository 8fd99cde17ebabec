/**
 * A ClientHello that arrives before the DTLS server listens is not lost.
 *
 * werift starts a connection's DTLS transport when its own ICE agent reports connected. The
 * controlled side often gets there first (the nominating check reaches it before the controlling
 * side has the answer to that check), and its DTLS client sends the ClientHello at once; werift's
 * ICE agent dropped datagrams nobody listened to yet, so the handshake waited for the ClientHello's
 * retransmission: in-process call set-up was bimodal, 36–74 ms or 137–244 ms (median 141 ms of 20
 * calls). `patches/werift+0.24.4.patch` keeps up to 8 such datagrams for the DTLS transport (median
 * 52 ms). This test makes the server side listen 200 ms late and the client retransmit only after
 * 1 s, and counts the ClientHellos the client sends; it fails without the patch.
 */
import { RTCDtlsTransport } from 'werift';
import { afterEach, describe, expect, it } from 'vitest';
import { answerPolicy } from '../../src/peer/index.js';
import { Hub } from './hub.js';
import { useBots } from './util.js';

interface DtlsTransportInternals {
  iceTransport: { role: string; connection: { send: (data: Buffer) => Promise<void> } };
  config: { dtls?: { firstRetransmitMs?: number } };
  start(): Promise<void>;
}

const DTLS_HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const RECORD_HEADER = 13;

const bot = useBots();
const originalStart = RTCDtlsTransport.prototype.start;
afterEach(() => {
  RTCDtlsTransport.prototype.start = originalStart;
});

describe('DTLS set-up', () => {
  it("the peer's first ClientHello, sent before this side's DTLS listened, starts the handshake", async () => {
    let clientHellos = 0;
    RTCDtlsTransport.prototype.start = async function (this: DtlsTransportInternals) {
      const ice = this.iceTransport;
      if (ice.role === 'controlling') {
        // The DTLS server (werift: the controlling side) starts listening 200 ms late.
        await new Promise((resolve) => setTimeout(resolve, 200));
      } else {
        // The client resends an unanswered flight only after 1 s, and its ClientHellos are counted.
        this.config.dtls = { ...this.config.dtls, firstRetransmitMs: 1000 };
        const send = ice.connection.send;
        ice.connection.send = (data: Buffer) => {
          if (data[0] === DTLS_HANDSHAKE && data[RECORD_HEADER] === CLIENT_HELLO) clientHellos++;
          return send(data);
        };
      }
      return originalStart.call(this);
    } as typeof RTCDtlsTransport.prototype.start;

    const hub = new Hub();
    const a = bot(hub, 'A');
    bot(hub, 'B', { answer: answerPolicy({ kind: 'everyone' }) });
    await a.call('B').waitFor('connected');
    // One ClientHello, then one with the server's cookie; a lost first one adds a retransmission.
    expect(clientHellos).toBe(2);
  }, 20_000);
});
