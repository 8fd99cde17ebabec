/**
 * werift's DTLS client retransmits its ClientHello after 500 ms. A server slower than that (a busy
 * event loop in another process: a recorder starting ffmpeg, a worker taking over jobs) answers both
 * copies, so the client receives the HelloVerifyRequest twice. Unpatched werift threw on the second
 * one and failed the whole peer connection ("Bye failed", nothing recorded) — about one call set-up
 * in two between processes under load. patches/werift+0.24.4.patch ignores the duplicate, as
 * RFC 6347 §4.2.4 asks. This test fails without the patch.
 */
import { describe, expect, it } from 'vitest';
import { CipherContext, DtlsClient, DtlsServer, SignatureAlgorithm, HashAlgorithm, NamedCurveAlgorithm } from 'werift';

/** The Transport shape werift's DTLS sockets take. */
interface MemoryTransport {
  type: string;
  address: { address: string; port: number; family: string };
  closed: boolean;
  onData: (data: Buffer, addr: unknown) => void;
  send: (data: Buffer) => Promise<void>;
  close: () => Promise<void>;
}

/**
 * Two connected in-memory transports. Datagrams from a to b are held until a has sent `holdUntil`
 * of them, then delivered back to back in one tick, like a server whose event loop was busy while
 * they queued up in its socket; everything else is delivered on the next tick.
 */
function transportPair(holdUntil: number): [MemoryTransport, MemoryTransport] {
  const make = (port: number): MemoryTransport => ({
    type: 'udp',
    address: { address: '127.0.0.1', port, family: 'IPv4' },
    closed: false,
    onData: () => undefined,
    send: async () => undefined,
    close: async () => undefined,
  });
  const a = make(1);
  const b = make(2);
  const held: Buffer[] = [];
  let sent = 0;
  a.send = async (data) => {
    const copy = Buffer.from(data);
    sent += 1;
    if (sent < holdUntil) {
      held.push(copy);
      return;
    }
    const batch = [...held.splice(0), copy];
    setImmediate(() => {
      for (const datagram of batch) b.onData(datagram, a.address);
    });
  };
  b.send = async (data) => {
    const copy = Buffer.from(data);
    setImmediate(() => a.onData(copy, b.address));
  };
  return [a, b];
}

async function certificate() {
  const signatureHash = { signature: SignatureAlgorithm.ecdsa_3, hash: HashAlgorithm.sha256_4 };
  const { certPem, keyPem } = await CipherContext.createSelfSignedCertificateWithKey(signatureHash, NamedCurveAlgorithm.secp256r1_23);
  return { cert: certPem, key: keyPem, signatureHash };
}

/** Runs one handshake; resolves with each side's outcome. */
async function handshake(
  holdUntil: number,
  options: { firstRetransmitMs?: number; clientSide?: MemoryTransport; serverSide?: MemoryTransport } = {},
): Promise<{ client: string; server: string }> {
  const [clientSide, serverSide] = options.clientSide && options.serverSide ? [options.clientSide, options.serverSide] : transportPair(holdUntil);
  const timing = options.firstRetransmitMs === undefined ? {} : { firstRetransmitMs: options.firstRetransmitMs };
  const client = new DtlsClient({ ...(await certificate()), transport: clientSide as never, extendedMasterSecret: true, ...timing });
  const server = new DtlsServer({ ...(await certificate()), transport: serverSide as never, extendedMasterSecret: true, ...timing });
  const outcome = (socket: DtlsClient | DtlsServer) =>
    new Promise<string>((resolve) => {
      socket.onConnect.once(() => resolve('connected'));
      socket.onError.once((error: Error) => resolve(`failed: ${error.message || error.stack?.split('\n')[1]?.trim()}`));
      setTimeout(() => resolve('timeout'), 8000).unref();
    });
  const results = Promise.all([outcome(client), outcome(server)]);
  await client.connect().catch(() => undefined);
  const [c, s] = await results;
  client.close();
  server.close();
  return { client: c, server: s };
}

describe('DTLS handshake with a slow server (werift patch)', () => {
  it('connects when the server answers within the retransmit time', async () => {
    expect(await handshake(0)).toEqual({ client: 'connected', server: 'connected' });
  });

  it('connects when the first ClientHello arrives after the client retransmitted it (two HelloVerifyRequests)', async () => {
    // The ClientHello and its retransmission (500 ms later) reach the server together: it answers
    // both, and the client gets the HelloVerifyRequest twice.
    expect(await handshake(2)).toEqual({ client: 'connected', server: 'connected' });
  }, 15_000);

  it('firstRetransmitMs (the patch\'s setting, 100 ms in PeerLink): a lost first ClientHello is sent again before werift\'s 500 ms', async () => {
    // The first ClientHello is lost (the other side was not listening yet). A 400 ms timer armed
    // when it was sent is the yardstick: Node fires timers in expiry order, so this does not depend
    // on how busy the machine is. werift's own first resend is due at 500 ms, after the yardstick.
    const [clientSide, serverSide] = transportPair(0);
    const deliver = clientSide.send;
    const sentAt: string[] = [];
    let yardstickFired = false;
    clientSide.send = async (data) => {
      if (sentAt.length === 0) setTimeout(() => (yardstickFired = true), 400);
      sentAt.push(yardstickFired ? 'after 400 ms' : 'before 400 ms');
      if (sentAt.length === 1) return; // lost
      await deliver(data);
    };
    expect(await handshake(0, { firstRetransmitMs: 100, clientSide, serverSide })).toEqual({ client: 'connected', server: 'connected' });
    expect(sentAt.slice(0, 2)).toEqual(['before 400 ms', 'before 400 ms']);
  }, 15_000);
});
