import { BehaviorSubject, Subject, Subscription, filter } from 'rxjs';
import { MediaStreamTrack } from 'werift';
import { MeetingRecorder, RtpStreamCounter, type MeetingResume, playFile, startBandwidthFeedback, type MeetingRecording, type Playback, type RecorderStats } from '../../media/index.js';
import type { Call, CallManager, RemoteTrack } from '../../peer/index.js';
import { ensureWritableDir } from '../dir-checks.js';
import type { Plugin, PluginContext } from '../plugin.js';
import { parsePluginOptions } from '../plugin-options.js';
import { callsExtras, ensureCalls } from './calls.js';
import { OnceReporter } from './once-reporter.js';
import { registerRecordCommand } from './record-command.js';
import { IdlePolicy } from './record-idle.js';
import { recordOptionsSchema, type ParsedRecordOptions, type RecorderControl, type RecordOptions, type RecordingState } from './record-options.js';
import { ensureScreenShares, type ScreenShare, type ScreenShares } from './screen-shares.js';

export * from './record-options.js';

declare module '../services.js' {
  interface Services {
    /** The bot's recorder (set up by the {@link record} plugin). */
    recorder: RecorderControl;
    /**
     * Set by a plugin before `record` (the fleet worker's job plugin) to make the next recording
     * continue an existing meeting directory; taken once by the recorder.
     */
    meetingResume: MeetingResume;
  }
}

/**
 * Records every participant of the bot's calls and conferences to disk through ffmpeg without
 * transcoding (Opus+VP8 → WebM, H264 → MKV, audio only → Ogg), with a `meeting.json` sidecar
 * (participants, first-sample times, joins/leaves, speaker timeline from `Talking`).
 * Stopping the bot finalises every file.
 *
 * Options are validated here (a `PluginOptionsError` names the bad field); the recordings dir is
 * created and checked for write access before the bot connects (`preflight`). A dir that becomes
 * unusable later (disk full, unmounted) is reported once per recording; the bot stays up.
 */
export function record(options: RecordOptions = {}): Plugin {
  const parsed = parsePluginOptions('record', recordOptionsSchema, options);
  return {
    name: 'record',
    preflight: () => ensureWritableDir(parsed.dir, 'recordings dir'),
    setup(ctx) {
      return new RecordSession(ctx, parsed).teardown;
    },
  };
}

const NAME_WAIT_MS = 3000;

function hasName(status: unknown): boolean {
  const name = (status as { displayName?: unknown } | null | undefined)?.displayName;
  return typeof name === 'string' && name.trim() !== '';
}

class RecordSession implements RecorderControl {
  readonly teardown = new Subscription();
  readonly #ctx: PluginContext<unknown>;
  readonly #options: ParsedRecordOptions;
  /** Totals of finished recordings, so the figures for `/metrics` never drop. */
  readonly #done = { bytesWritten: 0, packetsDropped: 0 };
  /** Start failures are logged once per cause until a recording starts again. */
  readonly #startFailures: OnceReporter;
  readonly #state = new BehaviorSubject<RecordingState>({ status: 'idle' });
  readonly #finalized = new Subject<MeetingRecording>();
  readonly #tracks = new Map<RemoteTrack, RtpStreamCounter>();
  readonly #calls: CallManager;
  readonly #shares: ScreenShares;
  readonly #idle: IdlePolicy;
  #recorder?: MeetingRecorder;
  #starting?: Promise<string>;
  #stopping = false;
  #noticeTrack?: MediaStreamTrack;
  #notice?: Playback;
  readonly state$ = this.#state.asObservable();
  readonly finalized$ = this.#finalized.asObservable();

  constructor(ctx: PluginContext<unknown>, options: ParsedRecordOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.#idle = new IdlePolicy({ emptyMs: options.stopWhenEmptyMs, silentMs: options.stopWhenSilentMs });
    this.#startFailures = new OnceReporter(ctx.logger);
    const calls = ensureCalls(ctx);
    this.#calls = calls;
    void MeetingRecorder.warmUp(); // ffmpeg ready before the first call (or share) needs it
    // Screen shares are recorded as their own files (`<name>.screen.webm`).
    this.#shares = ensureScreenShares(ctx);
    this.teardown.add(
      this.#shares.events$.subscribe((e) => {
        if (e.type === 'start') this.#recordShare(e.share);
        else void this.#recorder?.stopScreenShare(e.share.participantId, e.share.token, e.time);
      }),
    );
    ctx.services.provide('recorder', this);
    this.teardown.add(() => ctx.services.remove('recorder'));
    const extras = callsExtras(ctx);
    const maxBitrate = options.maxBitrate;
    if (maxBitrate > 0) {
      const hook = (pc: Parameters<typeof startBandwidthFeedback>[0]) => void startBandwidthFeedback(pc, { maxBitrate, logger: ctx.logger });
      extras.peerConnectionHooks.add(hook);
      this.teardown.add(() => extras.peerConnectionHooks.delete(hook));
    }
    if (options.noticeAudio && !extras.audioTrack) {
      this.#noticeTrack = extras.audioTrack = new MediaStreamTrack({ kind: 'audio' });
      this.teardown.add(() => this.#notice?.stop());
    }
    const autoStart = options.autoStart;

    for (const call of calls.calls.values()) this.#watchCall(call);
    this.teardown.add(calls.calls$.subscribe((call) => this.#watchCall(call)));
    this.teardown.add(
      calls.tracks$.subscribe((track) => {
        const counter = new RtpStreamCounter();
        this.#tracks.set(track, counter);
        track.rtp$.subscribe({
          next: (rtp) => counter.count(rtp.header.sequenceNumber),
          complete: () => this.#tracks.delete(track),
          error: () => this.#tracks.delete(track),
        });
        this.#addWhenNamed(track);
      }),
    );
    // Names can change while recording (sidecar and later segments use the new one).
    this.teardown.add(
      ctx.users$.subscribe((users) => {
        for (const [id, p] of users) if (hasName(p.status)) this.#recorder?.setName(id, p.displayName);
      }),
    );
    this.teardown.add(
      calls.documents$.pipe(filter((r) => r.kind === 'Talking')).subscribe((r) => {
        if (r.kind === 'Talking') this.#recorder?.talking(r.from, r.doc.Talking);
      }),
    );
    if (autoStart === 'autocall') {
      // AutoCall requests come from other bots: read them from allChat$.
      this.teardown.add(ctx.allChat$.pipe(filter((m) => !!m.status?.AutoCall)).subscribe(() => this.#autoStart()));
    }
    this.teardown.add(ctx.joined$.subscribe((p) => this.#recorder?.setName(p.id, ctx.displayName(p.id))));

    if (autoStart === 'call') {
      const startWhenConnected = (call: Call) => void call.waitFor('connected', 120_000).then(() => this.#autoStart(), () => undefined);
      // A call can exist already: a conference offer that arrived while the bot joined is
      // answered as soon as autoAnswer sets up, before this plugin subscribes.
      for (const call of calls.calls.values()) startWhenConnected(call);
      this.teardown.add(calls.calls$.subscribe(startWhenConnected));
    }

    const timer = setInterval(() => this.#checkIdle(), 1000);
    this.teardown.add(() => clearInterval(timer));
    ctx.onStop(async () => {
      this.#stopping = true;
      await this.stop();
    });
    ctx.onMetrics(() => {
      const stats = this.stats;
      return {
        // 'stopping' counts as ended: stop() resolves before finalized$ clears the recorder.
        recordingsActive:
          this.#recorder && this.#state.value.status === 'recording' ? new Set([...this.#tracks.keys()].map((t) => t.participantId)).size : 0,
        recordingBytesWritten: this.#done.bytesWritten + (stats?.bytesWritten ?? 0),
        recordingPacketsDropped: this.#done.packetsDropped + (stats?.packetsDropped ?? 0),
        rtpStreams: [...this.#tracks].map(([t, c]) => ({
          participant: ctx.displayName(t.participantId),
          kind: t.kind,
          packetsReceived: c.received,
          packetsLost: c.lost,
        })),
      };
    });
    if (options.command) this.teardown.add(registerRecordCommand(ctx.commands, this, () => this.#tracks.size));
    this.teardown.add(() => {
      this.#state.complete();
      this.#finalized.complete();
    });
  }

  get state(): RecordingState {
    return this.#state.value;
  }

  get stats(): RecorderStats | undefined {
    return this.#recorder?.stats;
  }

  start(): Promise<string> {
    if (this.#stopping) return Promise.reject(new Error('the bot is stopping: no new recordings'));
    if (this.#recorder) return Promise.resolve(this.#recorder.dir);
    this.#starting ??= (async () => {
      const ctx = this.#ctx;
      const resume = ctx.services.get('meetingResume');
      if (resume) ctx.services.remove('meetingResume');
      const recorder = await MeetingRecorder.create({
        resume,
        room: ctx.bot.room || 'default',
        rootDir: this.#options.dir,
        audioOnly: this.#options.audioOnly,
        maxDurationMs: this.#options.maxDurationMs,
        logger: ctx.logger,
      });
      this.#recorder = recorder;
      this.#startFailures.clear();
      // A full or vanished disk fails every participant alike: say so once per recording.
      const failures = new OnceReporter(ctx.logger);
      recorder.error$.subscribe(({ participantId, error }) => {
        const diskWide = error.code === 'DISK_FULL' || error.code === 'OUTPUT_NOT_WRITABLE';
        const key = diskWide ? error.code : `${error.code}:${participantId}`;
        const message = diskWide ? 'recording output failed; the bot keeps running' : 'participant recording failed; others continue';
        failures.report(key, { participant: participantId, dir: recorder.dir, err: error }, message);
      });
      recorder.finalized$.subscribe((result) => {
        this.#done.bytesWritten += recorder.stats.bytesWritten;
        this.#done.packetsDropped += recorder.stats.packetsDropped;
        if (this.#recorder === recorder) this.#recorder = undefined;
        this.#state.next({ status: 'idle' });
        ctx.logger.info({ dir: result.dir, files: result.files.length, sidecar: result.sidecarPath }, 'recording finalised');
        this.#finalized.next(result);
      });
      for (const [id, p] of ctx.users) recorder.join(id, p.displayName);
      for (const track of this.#tracks.keys()) this.#addWhenNamed(track);
      for (const share of this.#shares.active) this.#recordShare(share);
      this.#idle.reset();
      this.#state.next({ status: 'recording', dir: recorder.dir, startedAt: Date.now() });
      ctx.logger.info({ dir: recorder.dir }, 'recording started');
      if (this.#options.notice) ctx.chat.send(this.#options.notice);
      if (this.#options.noticeAudio && this.#noticeTrack) {
        this.#notice?.stop();
        this.#notice = await playFile(this.#options.noticeAudio, this.#noticeTrack, { logger: ctx.logger });
      }
      return recorder.dir;
    })().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  /** Starts by itself (a call connected, an AutoCall arrived): a failure is logged once per cause, never thrown. */
  #autoStart(): void {
    this.start().catch((error: unknown) => {
      if (this.#stopping) return;
      const code = (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));
      this.#startFailures.report(code, { dir: this.#options.dir, err: error }, 'recording could not start; trying again at the next call');
    });
  }

  async stop(): Promise<MeetingRecording | undefined> {
    if (this.#starting) await this.#starting.catch(() => undefined);
    const recorder = this.#recorder;
    if (!recorder) return undefined;
    this.#state.next({ status: 'stopping', dir: recorder.dir });
    return recorder.stop();
  }

  /**
   * Files are named after the participant: a web client sends its Status (display name) about a
   * second after connecting, often after its call is up, so a track waits up to `NAME_WAIT_MS`
   * for the name before its file is opened.
   */
  #addWhenNamed(track: RemoteTrack): void {
    this.#whenNamed(track.participantId, () => {
      if (!this.#tracks.has(track)) return;
      this.#recorder?.setName(track.participantId, this.#ctx.displayName(track.participantId));
      this.#recorder?.addSource(track);
    });
  }

  /** Runs `ready` once `participantId` has a display name, or after `NAME_WAIT_MS`; only while recording. */
  #whenNamed(participantId: string, ready: () => void): void {
    if (!this.#recorder) return;
    if (hasName(this.#ctx.users.get(participantId)?.status)) return ready();
    const timer = setTimeout(() => {
      sub.unsubscribe();
      ready();
    }, NAME_WAIT_MS);
    const sub = this.#ctx.users$.subscribe((users) => {
      if (!hasName(users.get(participantId)?.status)) return;
      clearTimeout(timer);
      queueMicrotask(() => sub.unsubscribe());
      ready();
    });
    this.teardown.add(() => clearTimeout(timer));
  }

  /** A share is named after its sharer too (`<name>.screen.webm`); it keeps its own start time. */
  #recordShare(share: ScreenShare): void {
    this.#whenNamed(share.participantId, () => {
      if (!this.#shares.active.includes(share)) return; // ended while the name was awaited
      this.#recorder?.setName(share.participantId, this.#ctx.displayName(share.participantId));
      this.#recorder?.startScreenShare(share.participantId, share.token, share.track, share.startedAt);
    });
  }

  #watchCall(call: Call): void {
    const id = call.peerId;
    const sub = call.state$.subscribe((state) => {
      if (state.status === 'connected') this.#recorder?.join(id, this.#ctx.displayName(id));
      if (state.status === 'closed') {
        void this.#recorder?.leave(id);
        sub.unsubscribe();
      }
    });
    this.teardown.add(sub);
  }

  #checkIdle(): void {
    const recorder = this.#recorder;
    if (!recorder) return;
    // "Empty" means nobody to record: peers whose calls carry no media (e.g. a file-drop bot) do not count.
    const empty = ![...this.#calls.calls.values()].some(
      (c) => (c.state.status === 'connected' && c.remoteTracks.length > 0) || c.state.status === 'connecting',
    );
    const reason = this.#idle.check({ empty, packetsReceived: recorder.stats.packetsReceived });
    if (!reason) return;
    this.#ctx.logger.info(reason === 'empty' ? 'room empty: stopping the recording' : 'no media: stopping the recording');
    void this.stop();
  }
}
