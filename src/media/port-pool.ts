import { createSocket } from 'node:dgram';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { MediaError } from './errors.js';

/** An RTP port (even) and its RTCP port (RTP + 1) on 127.0.0.1. */
export interface PortPair {
  rtp: number;
  rtcp: number;
}

/** Options for {@link UdpPortPool}. */
export interface UdpPortPoolOptions {
  /** First port (rounded up to even). @defaultValue 20000 (below Linux's ephemeral range, where werift's ICE sockets land) */
  min?: number;
  /** Last port. @defaultValue 29999 */
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
    this.min = Math.ceil((options.min ?? 20000) / 2) * 2;
    this.max = options.max ?? 29999;
    // Random start: several processes (tests, bots) with their own pool rarely pick the same pair.
    this.next = this.min + 2 * Math.floor(Math.random() * Math.floor((this.max - this.min + 1) / 2));
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

/** Parses `/proc/net/udp`(6) text into bound local port → socket inodes. Pure. */
export function parseProcNetUdp(text: string): Map<number, Set<string>> {
  const ports = new Map<number, Set<string>>();
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    const hex = cols[1]?.split(':').pop();
    if (!hex) continue;
    const port = parseInt(hex, 16);
    if (!ports.has(port)) ports.set(port, new Set());
    if (cols[9]) ports.get(port)!.add(cols[9]);
  }
  return ports;
}

async function boundPorts(): Promise<Map<number, Set<string>> | undefined> {
  const texts = await Promise.all(['/proc/net/udp', '/proc/net/udp6'].map((p) => readFile(p, 'utf8').catch(() => undefined)));
  if (texts.every((t) => t === undefined)) return undefined;
  return parseProcNetUdp(texts.filter((t): t is string => t !== undefined).join('\n'));
}

/** Socket inodes a process has open, from `/proc/<pid>/fd`; undefined if unreadable. */
async function socketInodes(pid: number): Promise<Set<string> | undefined> {
  const dir = `/proc/${pid}/fd`;
  const fds = await readdir(dir).catch(() => undefined);
  if (!fds) return undefined;
  const links = await Promise.all(fds.map((fd) => readlink(`${dir}/${fd}`).catch(() => '')));
  return new Set(links.map((l) => /^socket:\[(\d+)\]$/.exec(l)?.[1]).filter((i): i is string => i !== undefined));
}

/**
 * Resolves when every port in `ports` is bound, polling `/proc/net/udp`. With `pid`, the sockets
 * must belong to that process (so a port grabbed by someone else does not count).
 * Where `/proc` is missing it waits `fallbackMs` instead. Rejects with `PORT_NOT_BOUND` after
 * `timeoutMs` or when `abort` fires.
 * @defaultValue timeoutMs 10000, intervalMs 25, fallbackMs 1000
 */
export async function waitUntilBound(
  ports: readonly number[],
  options: { timeoutMs?: number; intervalMs?: number; fallbackMs?: number; signal?: AbortSignal; pid?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    if (options.signal?.aborted) throw new MediaError('PORT_NOT_BOUND', 'stopped while waiting for ffmpeg to bind its ports');
    const bound = await boundPorts();
    if (!bound) {
      await new Promise((r) => setTimeout(r, options.fallbackMs ?? 1000));
      return;
    }
    if (ports.every((p) => bound.has(p))) {
      if (options.pid === undefined) return;
      const own = await socketInodes(options.pid);
      if (!own || ports.every((p) => [...bound.get(p)!].some((inode) => own.has(inode)))) return;
    }
    if (Date.now() > deadline) {
      throw new MediaError('PORT_NOT_BOUND', `ffmpeg did not bind UDP ports ${ports.join(', ')} in time: check its output and that the ports are free`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 25));
  }
}
