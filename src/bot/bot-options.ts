import type { Channel } from '../channel/index.js';
import type { Logger } from '../util/logger.js';
import type { FaultLimit } from './fault-budget.js';
import type { Plugin } from './plugin.js';

/** Options of a {@link Bot}. */
export interface BotOptions {
  /** WebSocket URL of the channeling server, e.g. `ws://127.0.0.1:8080/ws`. */
  server: string;
  /** Room name to join (`''` is the server's default room). */
  room: string;
  /** Room PIN, when the room is protected. Never logged. */
  pin?: string;
  /** Display name published in the bot's Status. */
  name: string;
  /**
   * Extra Status fields: `buddyPicture` (data URL) and `message`. The Status also carries
   * `bot: true` so other bots do not answer this one; `{ bot: false }` turns that off.
   */
  status?: { buddyPicture?: string | null; message?: string | null; [key: string]: unknown };
  /** Plugins, set up in order after joining and torn down in reverse order. */
  plugins?: Plugin<any>[];
  /** Per-plugin configuration, keyed by plugin name; handed to the plugin as `ctx.config`. */
  pluginConfig?: Record<string, unknown>;
  /** Logger. @defaultValue a silent logger */
  logger?: Logger;
  /** User agent sent in Hello. @defaultValue `'spreed-bot'` */
  ua?: string;
  /** How long `stop()` waits for plugins' stop hooks (finalising recordings, transfers). @defaultValue 30000 */
  stopTimeoutMs?: number;
  /**
   * How long `start()` retries the first connection before it rejects with ChannelError
   * `connect_failed`, whose message names the URL and the last cause (e.g. a refused port). An
   * unknown host, an HTTP 4xx on the WebSocket upgrade or a TLS failure rejects at once.
   * `Infinity` retries until the server answers (the service supervisor's choice: it logs each
   * change of cause once and retries permanent ones itself). @defaultValue 10000
   */
  startTimeoutMs?: number;
  /** A ready channel to use instead of creating one (tests, custom transports). */
  channel?: Channel;
  /**
   * A plugin with this many faults (uncaught errors in its subscribers, timers, promises or hooks)
   * within the window is disabled: its streams end, its commands go, its stop hooks and teardown
   * run; the bot and the other plugins keep running. @defaultValue `{ faults: 5, windowMs: 60000 }`
   */
  pluginFaultLimit?: FaultLimit;
}

/** Lifecycle state of a bot. */
export type BotState =
  | { status: 'idle' }
  | { status: 'starting' }
  | { status: 'running' }
  | { status: 'stopping' }
  | { status: 'stopped' }
  | { status: 'failed'; error: Error };
