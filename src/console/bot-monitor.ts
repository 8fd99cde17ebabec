import { Subject, Subscription, filter, type Observable } from 'rxjs';
import type { Bot } from '../bot/bot.js';
import type { CallManager, Call } from '../peer/index.js';
import type { RecorderControl } from '../bot/plugins/record.js';
import type { FileDownloads } from '../bot/plugins/files.js';
import type { FileFetch, FileInfo } from '../files/index.js';
import { TrackMonitor, type StreamView } from './track-monitor.js';

/** Channel state as the console shows it. */
export interface ConnectionView {
  status: string;
  /** Since when (Unix ms) the channel is in this state. */
  since: number;
  /** Reconnect attempt number while `reconnecting`/`connecting`. */
  attempt?: number;
  /** When the next reconnect attempt starts (Unix ms), while `reconnecting`. */
  nextRetryAt?: number;
  /** Why the channel reconnects or closed. */
  reason?: string;
}

/** A call of a bot. */
export interface CallView {
  peerId: string;
  name: string;
  status: string;
  direction: 'incoming' | 'outgoing';
  conference?: string;
  tracks: number;
}

/** A running or recently finished file download. */
export interface TransferView {
  name: string;
  from: string;
  size: number;
  bytes: number;
  /** 0..1. */
  fraction: number;
  /** Bytes per second. */
  rate: number;
  state: 'running' | 'done' | 'failed';
  error?: string;
}

/** A running recording. */
export interface RecordingView {
  status: 'recording' | 'stopping';
  dir: string;
  startedAt?: number;
  durationMs?: number;
  bytesWritten: number;
}

/** A received stream with whose it is and whether they talk (Talking documents). */
export interface ParticipantStreamView extends StreamView {
  name: string;
  talking: boolean;
}

/** Everything the live view shows about one bot. */
export interface BotView {
  /** Key of the bot in this console (for stop actions). */
  id: string;
  name: string;
  room: string;
  /** Server URL without query or credentials. */
  server: string;
  state: string;
  error?: string;
  connection: ConnectionView;
  /** When the bot was last seen starting to run (Unix ms). */
  startedAt?: number;
  plugins: string[];
  users: { id: string; name: string; talking: boolean }[];
  calls: CallView[];
  streams: ParticipantStreamView[];
  recording?: RecordingView;
  transfers: TransferView[];
}

/** How long a finished download stays in the list. */
const KEEP_TRANSFER_MS = 30_000;

function publicUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

interface Transfer extends TransferView {
  endedAt?: number;
}

/**
 * Watches one bot for the console: channel state changes (with the time they happened, for the
 * next retry), its calls' tracks (through {@link TrackMonitor}), Talking documents and file
 * downloads. Services appear when plugins set up, so they are looked up again on every view.
 * `changes$` fires when something the page shows changed state.
 */
export class BotMonitor {
  readonly #subscription = new Subscription();
  readonly #changes = new Subject<void>();
  readonly #tracks = new Map<Call, TrackMonitor[]>();
  readonly #talking = new Map<string, boolean>();
  readonly #transfers: Transfer[] = [];
  #connection: ConnectionView = { status: 'connecting', since: Date.now() };
  #startedAt?: number;
  #calls?: CallManager;
  #recorder?: RecorderControl;
  #downloads?: FileDownloads;
  /** Something the page shows changed state (not counters). */
  readonly changes$: Observable<void> = this.#changes.asObservable();

  constructor(
    readonly bot: Bot,
    readonly id: string,
  ) {
    this.#subscription.add(
      bot.channel.state$.subscribe((state) => {
        const now = Date.now();
        this.#connection = {
          status: state.status,
          since: now,
          ...('attempt' in state ? { attempt: state.attempt } : {}),
          ...(state.status === 'reconnecting' ? { nextRetryAt: now + state.delayMs } : {}),
          ...('reason' in state ? { reason: state.reason } : {}),
        };
        this.#changes.next();
      }),
    );
    this.#subscription.add(
      bot.state$.subscribe((state) => {
        if (state.status === 'running') this.#startedAt = Date.now();
        this.#changes.next();
      }),
    );
  }

  /** Subscribes to services that plugins published since the last look. */
  #attach(): void {
    const services = this.bot.services;
    const calls = services.get('calls');
    if (calls && calls !== this.#calls) {
      this.#calls = calls;
      for (const call of calls.calls.values()) this.#watchCall(call);
      this.#subscription.add(calls.calls$.subscribe((call) => this.#watchCall(call)));
      this.#subscription.add(
        calls.documents$.pipe(filter((r) => r.kind === 'Talking')).subscribe((r) => {
          if (r.kind !== 'Talking') return;
          this.#talking.set(r.from, r.doc.Talking === true);
          this.#changes.next();
        }),
      );
    }
    const recorder = services.get('recorder');
    if (recorder && recorder !== this.#recorder) {
      this.#recorder = recorder;
      this.#subscription.add(recorder.state$.subscribe(() => this.#changes.next()));
    }
    const downloads = services.get('fileDownloads');
    if (downloads && downloads !== this.#downloads) {
      this.#downloads = downloads;
      this.#subscription.add(downloads.started$.subscribe((d) => this.#watchDownload(d)));
    }
  }

  #watchCall(call: Call): void {
    const monitors: TrackMonitor[] = [];
    this.#tracks.set(call, monitors);
    this.#subscription.add(call.tracks$.subscribe((track) => monitors.push(new TrackMonitor(track))));
    this.#subscription.add(
      call.state$.subscribe({
        next: () => this.#changes.next(),
        complete: () => {
          for (const m of monitors) m.close();
          this.#tracks.delete(call);
          this.#talking.delete(call.peerId);
          this.#changes.next();
        },
      }),
    );
  }

  #watchDownload({ info, from, fetch }: { info: FileInfo; from: string; fetch: FileFetch }): void {
    const transfer: Transfer = { name: info.name, from: this.bot.displayName(from), size: info.size, bytes: 0, fraction: 0, rate: 0, state: 'running' };
    this.#transfers.push(transfer);
    this.#changes.next();
    fetch.progress$.subscribe({
      next: (p) => {
        transfer.bytes = p.bytes;
        transfer.fraction = p.total > 0 ? p.received / p.total : 1;
        transfer.rate = p.rate;
      },
      complete: () => {
        Object.assign(transfer, { state: 'done', fraction: 1, bytes: info.size, rate: 0, endedAt: Date.now() });
        this.#changes.next();
      },
      error: (error: unknown) => {
        Object.assign(transfer, { state: 'failed', rate: 0, error: error instanceof Error ? error.message : String(error), endedAt: Date.now() });
        this.#changes.next();
      },
    });
  }

  /** The bot as the live view shows it now. */
  view(now = Date.now()): BotView {
    this.#attach();
    const bot = this.bot;
    const name = (id: string) => bot.displayName(id);
    const calls = [...(this.#calls?.calls.values() ?? [])];
    const streams = [...this.#tracks.values()].flat().filter((m) => !m.ended).map((m) => {
      const view = m.view(now);
      return { ...view, name: name(view.participantId), talking: this.#talking.get(view.participantId) ?? false };
    });
    const state = bot.state;
    const recorderState = this.#recorder?.state;
    const recording: RecordingView | undefined =
      recorderState && recorderState.status !== 'idle'
        ? {
            status: recorderState.status,
            dir: recorderState.dir,
            ...(recorderState.status === 'recording' ? { startedAt: recorderState.startedAt, durationMs: now - recorderState.startedAt } : {}),
            bytesWritten: this.#recorder?.stats?.bytesWritten ?? 0,
          }
        : undefined;
    for (let i = this.#transfers.length - 1; i >= 0; i--) {
      const endedAt = this.#transfers[i]!.endedAt;
      if (endedAt !== undefined && now - endedAt > KEEP_TRANSFER_MS) this.#transfers.splice(i, 1);
    }
    return {
      id: this.id,
      name: bot.options.name,
      room: bot.options.room,
      server: publicUrl(bot.options.server),
      state: state.status,
      ...(state.status === 'failed' ? { error: state.error.message } : {}),
      connection: this.#connection,
      ...(this.#startedAt !== undefined && state.status === 'running' ? { startedAt: this.#startedAt } : {}),
      plugins: (bot.options.plugins ?? []).map((p) => p.name),
      users: [...bot.room.users.values()].map((p) => ({ id: p.id, name: p.displayName, talking: this.#talking.get(p.id) ?? false })),
      calls: calls.map((c) => ({
        peerId: c.peerId,
        name: name(c.peerId),
        status: c.state.status,
        direction: c.direction,
        ...(c.conferenceId ? { conference: c.conferenceId } : {}),
        tracks: c.remoteTracks.length,
      })),
      streams,
      ...(recording ? { recording } : {}),
      transfers: this.#transfers.map(({ endedAt: _, ...t }) => ({ ...t })),
    };
  }

  /** The running recording's directory, if any. */
  get recordingDir(): string | undefined {
    const state = this.#recorder?.state;
    return state && state.status !== 'idle' ? state.dir : undefined;
  }

  /** Stops the bot's running recording (finalised like `!record stop`). */
  async stopRecording(): Promise<boolean> {
    this.#attach();
    return (await this.#recorder?.stop()) !== undefined;
  }

  /** Stops watching (the bot itself keeps running). Idempotent. */
  close(): void {
    this.#subscription.unsubscribe();
    for (const monitors of this.#tracks.values()) for (const m of monitors) m.close();
    this.#tracks.clear();
    this.#changes.complete();
  }
}
