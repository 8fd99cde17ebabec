import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { MediaError } from './errors.js';

/** An RTP port (even) and its RTCP port (RTP + 1) on 127.0.0.1. */
export interface PortPair {
  rtp: number;
  rtcp: number;
}

/** Options for {@link UdpPortPool}. */
export interface UdpPortPoolOptions {
  /** First port (rounded up to even). @defaultValue 40000 */
  min?: number;
  /** Last port. @defaultValue 59999 */
  max?: number;
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/**
 * Hands out even RTP/RTCP port pairs on 127.0.0.1 for ffmpeg to listen on.
 * Pairs are probed (bind + close) before use, so ports taken by other programs are skipped;
 * a small race remains until ffmpeg binds, which {@link waitUntilBound} detects.
 */
export class UdpPortPool {
  private readonly min: number;
  private readonly max: number;
  private next: number;
  private readonly taken = new Set<number>();

  constructor(options: UdpPortPoolOptions = {}) {
    this.min = Math.ceil((options.min ?? 40000) / 2) * 2;
    this.max = options.max ?? 59999;
    this.next = this.min;
  }

  /** Number of pairs currently handed out. */
  get inUse(): number {
    return this.taken.size;
  }

  /** Allocates a free pair; rejects with `PORTS_EXHAUSTED` when the range has none. */
  async allocate(): Promise<PortPair> {
    const pairs = Math.floor((this.max - this.min + 1) / 2);
    for (let i = 0; i < pairs; i++) {
      const rtp = this.next;
      this.next = rtp + 2 > this.max - 1 ? this.min : rtp + 2;
      if (this.taken.has(rtp)) continue;
      this.taken.add(rtp); // reserve before the async probe so concurrent callers skip it
      if ((await canBind(rtp)) && (await canBind(rtp + 1))) return { rtp, rtcp: rtp + 1 };
      this.taken.delete(rtp);
    }
    throw new MediaError('PORTS_EXHAUSTED', `no free UDP port pair in ${this.min}-${this.max}: widen the range or record fewer streams`);
  }

  /** Returns a pair to the pool (idempotent). */
  release(pair: PortPair): void {
    this.taken.delete(pair.rtp);
  }
}

/** Parses `/proc/net/udp`(6) text into the set of bound local ports. Pure. */
export function parseProcNetUdp(text: string): Set<number> {
  const ports = new Set<number>();
  for (const line of text.split('\n').slice(1)) {
    const local = line.trim().split(/\s+/)[1];
    const hex = local?.split(':').pop();
    if (hex) ports.add(parseInt(hex, 16));
  }
  return ports;
}

async function boundPorts(): Promise<Set<number> | undefined> {
  const texts = await Promise.all(['/proc/net/udp', '/proc/net/udp6'].map((p) => readFile(p, 'utf8').catch(() => undefined)));
  if (texts.every((t) => t === undefined)) return undefined;
  return parseProcNetUdp(texts.filter((t): t is string => t !== undefined).join('\n'));
}

/**
 * Resolves when every port in `ports` is bound by some process (ffmpeg), polling `/proc/net/udp`.
 * Where `/proc` is missing it waits `fallbackMs` instead. Rejects with `PORT_NOT_BOUND` after
 * `timeoutMs` or when `abort` fires.
 * @defaultValue timeoutMs 10000, intervalMs 25, fallbackMs 1000
 */
export async function waitUntilBound(
  ports: readonly number[],
  options: { timeoutMs?: number; intervalMs?: number; fallbackMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    if (options.signal?.aborted) throw new MediaError('PORT_NOT_BOUND', 'stopped while waiting for ffmpeg to bind its ports');
    const bound = await boundPorts();
    if (!bound) {
      await new Promise((r) => setTimeout(r, options.fallbackMs ?? 1000));
      return;
    }
    if (ports.every((p) => bound.has(p))) return;
    if (Date.now() > deadline) {
      throw new MediaError('PORT_NOT_BOUND', `ffmpeg did not bind UDP ports ${ports.join(', ')} in time: check its output and that the ports are free`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 25));
  }
}
