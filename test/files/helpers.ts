import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { RTCPeerConnection, type RTCDataChannel } from 'werift';
import { fromWeriftDataChannel, type ChunkChannel, type FileServer, type TokenConnector } from '../../src/files/index.js';
import type { Logger } from '../../src/util/logger.js';

/** Loopback-only werift config: no STUN, IPv4 127.0.0.1, no media. */
export const loopbackConfig = {
  iceServers: [],
  iceAdditionalHostAddresses: ['127.0.0.1'],
  iceUseIpv6: false,
  codecs: { audio: [], video: [] },
};

function whenOpen(dc: RTCDataChannel): Promise<void> {
  if (dc.readyState === 'open') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const sub = dc.stateChanged.subscribe((s) => {
      if (s === 'open') {
        sub.unSubscribe();
        resolve();
      } else if (s === 'closed') {
        sub.unSubscribe();
        reject(new Error('data channel closed before opening'));
      }
    });
  });
}

/** Two in-process werift peers joined by an open `"default"` channel, as a token connection would be. */
export async function openWeriftPair(): Promise<{ offerer: ChunkChannel; answerer: ChunkChannel; offererPc: RTCPeerConnection; answererPc: RTCPeerConnection }> {
  const { dc, rdc, offererPc, answererPc } = await openRawWeriftPair();
  return {
    offerer: fromWeriftDataChannel(dc, { owner: offererPc }),
    answerer: fromWeriftDataChannel(rdc, { owner: answererPc }),
    offererPc,
    answererPc,
  };
}

/** {@link openWeriftPair} without the adapter: the bare werift channels (`dc` offered, `rdc` answered). */
export async function openRawWeriftPair(): Promise<{ dc: RTCDataChannel; rdc: RTCDataChannel; offererPc: RTCPeerConnection; answererPc: RTCPeerConnection }> {
  const offererPc = new RTCPeerConnection(loopbackConfig);
  const answererPc = new RTCPeerConnection(loopbackConfig);
  const dc = offererPc.createDataChannel('default', { ordered: true });
  const remote = new Promise<RTCDataChannel>((resolve) => answererPc.onDataChannel.subscribe(resolve));
  await offererPc.setLocalDescription(await offererPc.createOffer());
  await answererPc.setRemoteDescription(offererPc.localDescription!);
  await answererPc.setLocalDescription(await answererPc.createAnswer());
  await offererPc.setRemoteDescription(answererPc.localDescription!);
  const rdc = await remote;
  await Promise.all([whenOpen(dc), whenOpen(rdc)]);
  return { dc, rdc, offererPc, answererPc };
}

/** Options of {@link LoopbackConnector}. */
export interface LoopbackOptions {
  /** Wraps the server side of each new connection (n counts from 0), e.g. to corrupt or drop. */
  wrapServer?: (channel: ChunkChannel, n: number) => ChunkChannel;
}

/**
 * A TokenConnector over in-process werift pairs: every `open` makes a real peer connection pair
 * and hands the answerer's channel to the FileServer, like the peer layer does for token Offers.
 */
export class LoopbackConnector implements TokenConnector {
  opened = 0;
  readonly tokens: string[] = [];
  private readonly pcs: RTCPeerConnection[] = [];

  constructor(
    private readonly server: FileServer,
    private readonly options: LoopbackOptions = {},
  ) {}

  async open(peerId: string, token: string): Promise<ChunkChannel> {
    const n = this.opened++;
    this.tokens.push(token);
    const pair = await openWeriftPair();
    this.pcs.push(pair.offererPc, pair.answererPc);
    const serverSide = this.options.wrapServer ? this.options.wrapServer(pair.answerer, n) : pair.answerer;
    this.server.serve(serverSide, token, { id: `downloader-of-${peerId}` });
    return pair.offerer;
  }

  async close(): Promise<void> {
    await Promise.all(this.pcs.map((pc) => pc.close().catch(() => undefined)));
  }
}

/** Wraps a channel, letting a test change what is sent; everything else reads through to `channel`. */
export function interceptSend(channel: ChunkChannel, send: (data: string | Buffer, real: (d: string | Buffer) => void) => void): ChunkChannel {
  const wrapped = Object.create(channel) as ChunkChannel;
  wrapped.send = (data) => send(data, (d) => channel.send(d));
  return wrapped;
}

/** A pino logger collecting parsed log lines. */
export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown> & { msg: string }> } {
  const lines: Array<Record<string, unknown> & { msg: string }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** A fresh temp folder; remove with {@link removeDir}. */
export function tempDir(prefix = 'spreed-files-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** Writes `size` random bytes to `path` and returns them. */
export async function randomFile(path: string, size: number): Promise<Buffer> {
  const data = randomBytes(size);
  await writeFile(path, data);
  return data;
}

/** True when the two files hold the same bytes (byte-by-byte). */
export async function sameBytes(a: string, b: Buffer | string): Promise<boolean> {
  const left = await readFile(a);
  const right = typeof b === 'string' ? await readFile(b) : b;
  return left.length === right.length && left.equals(right);
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Waits until `predicate` holds, polling. */
export async function until(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
