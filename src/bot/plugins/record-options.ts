import type { Observable } from 'rxjs';
import { z } from 'zod';
import type { MeetingRecording, RecorderStats } from '../../media/index.js';
import { MAX_CHAT_LENGTH } from '../chat.js';
import { optionTypes } from '../plugin-options.js';

/** When the recorder starts by itself. */
export type RecordAutoStart =
  /** as soon as the bot has a connected call (someone called it, or a conference formed) */
  | 'call'
  /** when an AutoCall request arrives (then the callback call is recorded) */
  | 'autocall'
  /** only on `!record start` or `recorder.start()` */
  | 'manual';

/** Options of the {@link record} plugin. */
export interface RecordOptions {
  /** Root folder of recordings: files go to `<dir>/<room>/<start-time>/`. @defaultValue `'recordings'` */
  dir?: string;
  /** @defaultValue `'call'` */
  autoStart?: RecordAutoStart;
  /** Record audio only. @defaultValue `false` */
  audioOnly?: boolean;
  /** Stop after this long. @defaultValue unlimited */
  maxDurationMs?: number;
  /** Stop when the bot has had no call (nobody to record) this long. @defaultValue `30000` */
  stopWhenEmptyMs?: number;
  /** Stop when no RTP packet has arrived this long. @defaultValue `300000` (5 minutes) */
  stopWhenSilentMs?: number;
  /** Chat message sent to the room when a recording starts (a notice to participants). @defaultValue none */
  notice?: string;
  /**
   * Audio file (anything ffmpeg reads) played into every call when a recording starts, e.g. a
   * spoken "this meeting is being recorded". @defaultValue none
   */
  noticeAudio?: string;
  /**
   * Bitrate the bot tells senders its link can take (REMB), so browsers send full quality instead
   * of their ~300 kbps start rate. `0` disables the feedback. @defaultValue `4_000_000`
   */
  maxBitrate?: number;
  /** Register the `!record start|stop|status` chat command. @defaultValue `true` */
  command?: boolean;
}

/** Recording state. */
export type RecordingState =
  | { status: 'idle' }
  | { status: 'recording'; dir: string; startedAt: number }
  | { status: 'stopping'; dir: string };

/** Control of the recorder for user code and other plugins. */
export interface RecorderControl {
  /** Starts a recording (no-op when one runs). Resolves with its folder. */
  start(): Promise<string>;
  /** Stops and finalises the running recording; resolves with the file set, or undefined when idle. */
  stop(): Promise<MeetingRecording | undefined>;
  /** Current state. */
  readonly state$: Observable<RecordingState>;
  readonly state: RecordingState;
  /** Every finished recording: files and sidecar, for upload, transcoding or notification. */
  readonly finalized$: Observable<MeetingRecording>;
  /** Counters of the running recording. */
  readonly stats: RecorderStats | undefined;
}

const { positiveInt, path } = optionTypes;

/** Schema of {@link RecordOptions}, checked when the plugin is created. */
export const recordOptionsSchema = z
  .object({
    dir: path().default('recordings'),
    autoStart: z.enum(['call', 'autocall', 'manual']).default('call'),
    audioOnly: z.boolean().default(false),
    maxDurationMs: positiveInt().optional(),
    stopWhenEmptyMs: z.number().int().nonnegative().default(30_000),
    stopWhenSilentMs: positiveInt().default(300_000),
    notice: z.string().min(1).max(MAX_CHAT_LENGTH).optional(),
    noticeAudio: path().optional(),
    maxBitrate: z.number().int().nonnegative().default(4_000_000),
    command: z.boolean().default(true),
  })
  .strict();

/** {@link RecordOptions} with their defaults applied. */
export type ParsedRecordOptions = z.output<typeof recordOptionsSchema>;
