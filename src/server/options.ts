import { silentLogger, type Logger } from '../util/logger.js';

/** Options of {@link startServer}. Every field is optional; defaults mirror the real Go server. */
export interface ServerOptions {
  /** Interface to listen on. @defaultValue `'127.0.0.1'` */
  host?: string;
  /** TCP port; 0 picks a free one. @defaultValue `0` */
  port?: number;
  /** Base path the WebSocket endpoint (`<basePath>ws`) and REST API live under; a trailing `/` is added. @defaultValue `'/'` */
  basePath?: string;
  /**
   * Room name pattern → room type, checked in order for Hellos with an empty `Type`. Only the type
   * `"Conference"` changes behaviour (server-managed Conference docs).
   * @defaultValue `[[/^conference\/.+/, 'Conference']]`
   */
  roomTypes?: Array<[RegExp | string, string]>;
  /** Interval of WebSocket pings. @defaultValue `54000` */
  pingIntervalMs?: number;
  /** Read deadline, extended only by pongs; a client that does not pong in time is dropped. @defaultValue `60000` */
  pongTimeoutMs?: number;
  /** An empty room (and its PIN) is forgotten after this long without activity. @defaultValue `60000` */
  emptyRoomTtlMs?: number;
  /** Shared TURN REST secret; without it `Self.Turn` is all empty and `turnUris` are not sent. @defaultValue `undefined` */
  turnSecret?: string;
  /** TURN URIs sent in `Self.Turn.urls` (only when `turnSecret` is set). @defaultValue `[]` */
  turnUris?: string[];
  /** STUN URIs sent in `Self.Stun` and the config. @defaultValue `[]` */
  stunUris?: string[];
  /** Server version string (`Self.Version`, config `Version`). @defaultValue `'unreleased.<unix time at start>'` */
  version?: string;
  /** Largest inbound frame in bytes; a bigger one closes the socket with 1009. @defaultValue `1048576` */
  maxFrameBytes?: number;
  /** Inbound frames per sliding second; extra frames are delayed (reads paused), never dropped. 0 disables. @defaultValue `20` */
  inboundFramesPerSecond?: number;
  /** Frames queued per client before further frames to it are dropped. @defaultValue `2048` */
  outboundQueueLimit?: number;
  /** Whether the default room (`Name:""`) may be joined. @defaultValue `true` */
  defaultRoomEnabled?: boolean;
  /** Logger; one debug line per dropped frame. @defaultValue `silentLogger` */
  logger?: Logger;
}

/** Options with every default filled in. */
export interface ResolvedOptions extends Required<Omit<ServerOptions, 'turnSecret' | 'roomTypes'>> {
  turnSecret: string | undefined;
  roomTypes: Array<[RegExp, string]>;
}

export function resolveOptions(options: ServerOptions = {}): ResolvedOptions {
  let basePath = options.basePath ?? '/';
  if (!basePath.startsWith('/')) basePath = `/${basePath}`;
  if (!basePath.endsWith('/')) basePath = `${basePath}/`;
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    basePath,
    roomTypes: (options.roomTypes ?? [[/^conference\/.+/, 'Conference']]).map(([re, type]) => [
      typeof re === 'string' ? new RegExp(re) : re,
      type,
    ]),
    pingIntervalMs: options.pingIntervalMs ?? 54_000,
    pongTimeoutMs: options.pongTimeoutMs ?? 60_000,
    emptyRoomTtlMs: options.emptyRoomTtlMs ?? 60_000,
    turnSecret: options.turnSecret || undefined,
    turnUris: options.turnUris ?? [],
    stunUris: options.stunUris ?? [],
    version: options.version ?? `unreleased.${Math.floor(Date.now() / 1000)}`,
    maxFrameBytes: options.maxFrameBytes ?? 1 << 20,
    inboundFramesPerSecond: options.inboundFramesPerSecond ?? 20,
    outboundQueueLimit: options.outboundQueueLimit ?? 2048,
    defaultRoomEnabled: options.defaultRoomEnabled ?? true,
    logger: options.logger ?? silentLogger,
  };
}
