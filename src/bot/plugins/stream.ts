import { resolve } from 'node:path';
import { Subscription, filter, take } from 'rxjs';
import { z } from 'zod';
import { LiveComposite } from '../../media/live-composite.js';
import type { RemoteTrack } from '../../peer/index.js';
import type { Plugin, PluginContext } from '../plugin.js';
import { optionTypes, parsePluginOptions } from '../plugin-options.js';
import { ensureCalls } from './calls.js';
import { ensureScreenShares } from './screen-shares.js';

declare module '../services.js' {
  interface Services {
    /** The bot's live stream (set up by the {@link stream} plugin). */
    stream: StreamControl;
  }
}

/** What the {@link stream} plugin offers other plugins and the console. */
export interface StreamControl {
  /** Absolute directory `!stream start hls` writes to (the console serves it on `/live/<bot>/`). */
  readonly hlsDir: string;
  /** Where it streams now (secrets in the URL cut off), or undefined. */
  readonly target: string | undefined;
  /** Starts streaming to an `rtmp://`, `rtmps://`, `srt://` URL or `hls`; resolves with a one-line reply. */
  start(target: string): Promise<string>;
  /** Stops streaming; resolves with a one-line reply. */
  stop(): Promise<string>;
}

/** Options of the {@link stream} plugin. */
export interface StreamOptions {
  /** Where `!stream start hls` writes `index.m3u8` and its segments. @defaultValue `'live'` */
  hlsDir?: string;
  /** Composite size. @defaultValue 640 */
  width?: number;
  /** @defaultValue 360 */
  height?: number;
  /** @defaultValue 15 */
  fps?: number;
  /** H.264 bitrate in kbit/s. @defaultValue 800 */
  videoKbps?: number;
  /** libx264 preset. @defaultValue `'veryfast'` (4 participants real-time on 2 cores) */
  preset?: string;
  /** Register `!stream start <url>|stop|status`. @defaultValue `true` */
  command?: boolean;
}

const { positiveInt, path } = optionTypes;

/** Schema of {@link StreamOptions}. */
export const streamOptionsSchema = z
  .object({
    hlsDir: path().default('live'),
    width: positiveInt().default(640),
    height: positiveInt().default(360),
    fps: positiveInt().default(15),
    videoKbps: positiveInt().default(800),
    preset: z.string().min(1).default('veryfast'),
    command: z.boolean().default(true),
  })
  .strict();

type ParsedStreamOptions = z.output<typeof streamOptionsSchema>;

/**
 * Streams the meeting live as one composite (grid, active speaker outlined, a screen share as the
 * main tile; H.264 + AAC) to an RTMP/RTMPS or SRT URL, or as HLS into a directory:
 * `!stream start rtmp://a.rtmp.youtube.com/live2/<key>`, `!stream start hls`, `!stream stop`.
 * Participants joining and leaving change the layout; the stream does not restart.
 */
export function stream(options: StreamOptions = {}): Plugin {
  const parsed = parsePluginOptions('stream', streamOptionsSchema, options);
  return { name: 'stream', setup: (ctx) => new StreamSession(ctx, parsed).teardown };
}

class StreamSession implements StreamControl {
  readonly teardown = new Subscription();
  readonly #tracks = new Map<string, RemoteTrack[]>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #live?: LiveComposite;
  #target = '';

  constructor(
    private readonly ctx: PluginContext<unknown>,
    private readonly options: ParsedStreamOptions,
  ) {
    const calls = ensureCalls(ctx);
    const shares = ensureScreenShares(ctx);
    this.teardown.add(calls.tracks$.subscribe((track) => this.#addTrack(track)));
    this.teardown.add(
      calls.calls$.subscribe((call) => call.state$.pipe(filter((s) => s.status === 'closed'), take(1)).subscribe(() => this.#leave(call.peerId))),
    );
    this.teardown.add(
      calls.documents$.subscribe((r) => {
        if (r.kind === 'Talking') this.#live?.setTalking(r.from, r.doc.Talking);
      }),
    );
    this.teardown.add(
      shares.events$.subscribe((e) => {
        if (e.type === 'start') this.#live?.setScreen(e.share.participantId, e.share.track);
        else this.#live?.setScreen(e.share.participantId, undefined);
      }),
    );
    this.#shares = () => shares.active;
    this.hlsDir = resolve(options.hlsDir);
    ctx.services.provide('stream', this);
    this.teardown.add(() => ctx.services.remove('stream'));
    ctx.onStop(() => this.stop().then(() => undefined));
    this.teardown.add(() => {
      for (const t of this.#timers.values()) clearTimeout(t);
    });
    if (options.command) this.teardown.add(this.#registerCommand());
  }

  readonly #shares: () => ReturnType<typeof ensureScreenShares>['active'];
  readonly hlsDir: string;

  get target(): string | undefined {
    return this.#live ? this.#target : undefined;
  }

  /** Starts streaming to `target` (`hls` means the configured HLS directory). */
  async start(target: string): Promise<string> {
    if (this.#live) return `already streaming to ${this.#target}`;
    const resolved = target.toLowerCase() === 'hls' ? this.hlsDir : target;
    const o = this.options;
    const live = await LiveComposite.start({ target: resolved, width: o.width, height: o.height, fps: o.fps, videoKbps: o.videoKbps, preset: o.preset, logger: this.ctx.logger });
    this.#live = live;
    this.#target = live.target.kind === 'hls' ? `${live.target.dir}/index.m3u8` : live.target.url.replace(/\/[^/]*$/, '/…');
    for (const [id, tracks] of this.#tracks) live.setParticipant(id, tracks);
    for (const share of this.#shares()) live.setScreen(share.participantId, share.track);
    this.ctx.logger.info({ target: this.#target }, 'live stream started');
    return `streaming to ${this.#target}`;
  }

  /** Stops the stream; resolves when the encoder has finished. */
  async stop(): Promise<string> {
    const live = this.#live;
    if (!live) return 'not streaming';
    this.#live = undefined;
    const exit = await live.stop();
    this.ctx.logger.info({ target: this.#target, frames: live.framesSent }, 'live stream stopped');
    return exit.error ? `stream ended with an error: ${exit.error.message.split('\n')[0]}` : `stream stopped after ${Math.round(live.framesSent / this.options.fps)} s`;
  }

  #addTrack(track: RemoteTrack): void {
    const id = track.participantId;
    this.#tracks.set(id, [...(this.#tracks.get(id) ?? []).filter((t) => t.kind !== track.kind), track]);
    track.rtp$.subscribe({ complete: () => this.#dropTrack(track) });
    // Audio and video arrive together: one decoder start for both.
    clearTimeout(this.#timers.get(id));
    this.#timers.set(id, setTimeout(() => this.#live?.setParticipant(id, this.#tracks.get(id) ?? []), 300));
  }

  #dropTrack(track: RemoteTrack): void {
    const rest = (this.#tracks.get(track.participantId) ?? []).filter((t) => t !== track);
    if (rest.length === 0) this.#leave(track.participantId);
    else this.#tracks.set(track.participantId, rest);
  }

  #leave(id: string): void {
    clearTimeout(this.#timers.get(id));
    this.#tracks.delete(id);
    this.#live?.removeParticipant(id);
  }

  #registerCommand(): () => void {
    return this.ctx.commands.register({
      name: 'stream',
      usage: 'start <rtmp://…|srt://…|hls>|stop|status',
      help: 'streams the meeting live',
      run: async (args) => {
        switch ((args[0] ?? 'status').toLowerCase()) {
          case 'start':
            if (!args[1]) return 'usage: !stream start <rtmp://…|rtmps://…|srt://…|hls>';
            return this.start(args[1]).catch((err: Error) => `cannot stream: ${err.message.split('\n')[0]}`);
          case 'stop':
            return this.stop();
          case 'status':
            return this.#live ? `streaming to ${this.#target} (${this.#live.participants.length} participant(s))` : 'not streaming';
          default:
            return 'usage: !stream start <url>|stop|status';
        }
      },
    });
  }
}
