import type { SelfDoc } from '../protocol/index.js';
import type { BackoffPolicy } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';

/** Options of a {@link Channel}. */
export interface ChannelOptions {
  /** WebSocket URL of the channeling endpoint, e.g. `ws://127.0.0.1:8080/ws`. */
  url: string;
  /** Structured logger. @defaultValue `silentLogger` */
  logger?: Logger;
  /** Timeout of {@link Channel.request}. @defaultValue `10000` */
  requestTimeoutMs?: number;
  /** Send an Alive when nothing was received for this long. @defaultValue `5000` */
  aliveIdleMs?: number;
  /** Drop the socket and reconnect when still nothing was received after this long. @defaultValue `11500` */
  deadAfterMs?: number;
  /** Delay before each reconnect attempt. @defaultValue {@link defaultBackoff} (0 ms, +500 ms per attempt, ≤ 10 s, jitter) */
  reconnect?: BackoffPolicy;
  /** Frames kept while offline; beyond that {@link Channel.send} throws `queue_full`. @defaultValue `256` */
  maxQueue?: number;
  /** `Ua` sent in Hello (shown to others). @defaultValue `'spreed-bot'` */
  ua?: string;
  /**
   * Time from opening the socket to receiving Self before the attempt is abandoned.
   * @defaultValue like the web client: 5 s, +5 s per attempt, at most 20 s
   */
  connectTimeoutMs?: number;
}

/** Options of {@link Channel.connect}: how long the first connect may take. */
export interface ConnectOptions {
  /**
   * Give up when the first connection is not up (Self received) within this many ms: connect()
   * rejects with `connect_failed` naming the URL and the last cause, and the channel closes.
   * @defaultValue `Infinity` (retry with the reconnect policy until it gives up)
   */
  timeoutMs?: number;
  /**
   * Give up at the first permanent cause (HTTP 4xx on the upgrade, unknown host, TLS failure)
   * instead of retrying it; only before the channel has ever connected.
   * @defaultValue `false`
   */
  failFast?: boolean;
}

/** An ICE server entry as RTCPeerConnection (and werift) take it. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** ICE servers of a Self document (`Turn` with credentials when the server has a TURN secret, and `Stun`). */
export function iceServersOf(self: SelfDoc | undefined): IceServer[] {
  if (!self) return [];
  const servers: IceServer[] = [];
  const turnUrls = self.Turn?.urls;
  if (turnUrls && turnUrls.length > 0) {
    servers.push({ urls: [...turnUrls], username: self.Turn?.username, credential: self.Turn?.password });
  }
  if (self.Stun && self.Stun.length > 0) servers.push({ urls: [...self.Stun] });
  return servers;
}
