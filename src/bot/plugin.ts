import type { Observable, Subscription } from 'rxjs';
import type { ChannelState } from '../channel/index.js';
import type { OutgoingFrame, Received } from '../protocol/index.js';
import type { Participant } from '../room/index.js';
import type { Signaling } from '../peer/index.js';
import type { Logger } from '../util/logger.js';
import type { ChatApi, IncomingChat } from './chat.js';
import type { PluginCommands } from './commands.js';
import type { ServiceRegistry } from './services.js';

/** What a plugin's `setup` may return: cleanup run when the bot stops. */
export type Teardown = (() => void | Promise<void>) | Subscription | { unsubscribe(): void } | void;

/**
 * A bot plugin: a plain object with a name and a `setup` hook.
 *
 * @example
 * ```ts
 * export const echo: Plugin = {
 *   name: 'echo',
 *   setup: (ctx) => ctx.chat$.subscribe((msg) => ctx.chat.reply(msg, `you said: ${msg.text}`)),
 * };
 * ```
 */
export interface Plugin<Config = unknown> {
  /** Unique name, used in logs and to look up the plugin's config. */
  readonly name: string;
  /** Called once when the bot starts, after it has joined its room. */
  setup(ctx: PluginContext<Config>): Teardown | Promise<Teardown>;
  /**
   * Checks, before the bot connects, that the plugin can work (its folder exists and is writable,
   * …). Rejects with a `ConfigError` naming the path or field; `spreed-bot run` then exits 2.
   * Run by the config loader and by `bot.start()`. @defaultValue none
   */
  preflight?(): Promise<void>;
}

/** The bot's own identity as plugins see it. */
export interface BotIdentity {
  /** Own session id (changes only if the server forgets the session). */
  readonly id: string;
  /** Display name published in the bot's Status. */
  readonly name: string;
  /** Room the bot is in. */
  readonly room: string;
}

/**
 * Everything a plugin gets. Observables are hot and shared. The plugin's code runs in its own
 * async context: an error it leaves unhandled (a subscriber that throws, a rejected promise, a
 * throwing timer it started) is logged with the plugin's name and does not disturb the bot or the
 * other plugins; after `pluginFaultLimit` faults (5 in 60 s) the plugin is disabled — its streams
 * end, its commands go, its stop hooks and teardown run.
 */
export interface PluginContext<Config = unknown> {
  /** The bot's identity (id is the current session id). */
  readonly bot: BotIdentity;
  /** This plugin's own configuration (from the config file or the code that added it). */
  readonly config: Config;
  /** Child logger tagged with the plugin name. */
  readonly logger: Logger;
  /** Every validated document the bot receives. Narrow with `ofType('Chat')`. */
  readonly documents$: Observable<Received>;
  /**
   * Chat messages from people (text messages; not typing, acks, own echoes, nor messages from
   * sessions whose Status marks them as bots — so bots never answer each other forever).
   */
  readonly chat$: Observable<IncomingChat>;
  /** Chat messages from everyone including other bots (`message.fromBot`), e.g. for files bots share. */
  readonly allChat$: Observable<IncomingChat>;
  /** Who is in the room now (excluding the bot). */
  readonly users: ReadonlyMap<string, Participant>;
  /** Who is in the room: session id → participant. */
  readonly users$: Observable<ReadonlyMap<string, Participant>>;
  /** A participant joined the room. */
  readonly joined$: Observable<Participant>;
  /** A participant left the room. */
  readonly left$: Observable<{ id: string; status: 'soft' | 'hard'; participant?: Participant }>;
  /** Connection state of the bot's channel. */
  readonly state$: Observable<ChannelState>;
  /** The bot's signalling channel, for layers that drive themselves from documents (calls). */
  readonly signaling: Signaling;
  /** Merges keys into the bot's session Status and publishes it (re-sent after reconnects). */
  updateStatus(patch: Record<string, unknown>): void;
  /** Sends a frame through the channel (queued while reconnecting). */
  send(frame: OutgoingFrame): void;
  /** Sends a frame with an `Iid` and resolves with the server's reply. */
  request(frame: OutgoingFrame, options?: { timeoutMs?: number }): Promise<Received>;
  /** Chat: send, reply, typing, delivery statuses. */
  readonly chat: ChatApi;
  /** Chat commands (`!name args`) with per-sender rate limiting; removed when the plugin is disabled. */
  readonly commands: PluginCommands;
  /** Services other plugins provide (calls, recorder, files): `ctx.services.get('calls')`. */
  readonly services: ServiceRegistry;
  /** Display name of a session id (its Status displayName, or a short id). */
  displayName(id: string): string;
  /** Publishes figures for the `/metrics` endpoint, read at scrape time. */
  onMetrics(provider: () => BotMetricsReport): void;
  /**
   * Registers cleanup of a shared resource (e.g. the call manager) that must outlive the stop
   * hooks and plugin teardowns; close hooks run last, in reverse order.
   */
  onClose(hook: () => void | Promise<void>): void;
  /** Registers work to run when the bot stops, before plugins are torn down (e.g. finalise recordings). */
  onStop(hook: () => void | Promise<void>): void;
}

/**
 * Figures a plugin reports about its work (calls, recordings, transfers), read at scrape time.
 */
export interface BotMetricsReport {
  callsActive?: number;
  /** Participants being recorded now (not tracks: one participant with audio and video counts 1). */
  recordingsActive?: number;
  /** Bytes the recorder has written since the plugin started, over all recordings (never drops). */
  recordingBytesWritten?: number;
  /** RTP packets the recorder dropped because an ffmpeg stopped reading (a stuck disk), since the plugin started; 0 when healthy. */
  recordingPacketsDropped?: number;
  /** Per live RTP stream, by the participant's display name (`/metrics` bounds how many names become labels). */
  rtpStreams?: { participant: string; kind: string; packetsReceived: number; packetsLost: number }[];
  fileTransfers?: { direction: 'serve' | 'fetch'; count: number; bytes: number }[];
}
