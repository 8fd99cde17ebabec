import { BehaviorSubject, type Observable } from 'rxjs';
import { mixdown, type FfmpegInfo } from '../media/index.js';
import { silentLogger, type Logger } from '../util/logger.js';

/** State of a meeting's mix-down as the page shows it. */
export type MixState =
  | { status: 'idle' }
  | { status: 'running'; fraction: number }
  | { status: 'done'; file: string }
  | { status: 'failed'; error: string };

/** Options of {@link MixJobs}. */
export interface MixJobsOptions {
  ffmpeg?: FfmpegInfo;
  logger?: Logger;
}

/**
 * Mix-downs started from the console, one per meeting directory at a time, each with its progress
 * as a stream. A failure is reported on the stream (one log line), never thrown.
 */
export class MixJobs {
  readonly #jobs = new Map<string, BehaviorSubject<MixState>>();
  readonly #options: MixJobsOptions;

  constructor(options: MixJobsOptions = {}) {
    this.#options = options;
  }

  #subject(dir: string): BehaviorSubject<MixState> {
    let subject = this.#jobs.get(dir);
    if (!subject) this.#jobs.set(dir, (subject = new BehaviorSubject<MixState>({ status: 'idle' })));
    return subject;
  }

  /** The mix-down state of `dir`: the current one first, then every change. */
  state$(dir: string): Observable<MixState> {
    return this.#subject(dir).asObservable();
  }

  /** The current mix-down state of `dir`. */
  state(dir: string): MixState {
    return this.#subject(dir).value;
  }

  /** Starts mixing `dir` unless a mix of it runs already. */
  start(dir: string): MixState {
    const subject = this.#subject(dir);
    if (subject.value.status === 'running') return subject.value;
    const logger = this.#options.logger ?? silentLogger;
    subject.next({ status: 'running', fraction: 0 });
    mixdown(dir, {
      ffmpeg: this.#options.ffmpeg,
      logger,
      onProgress: ({ fraction }) => subject.next({ status: 'running', fraction }),
    }).then(
      (result) => subject.next({ status: 'done', file: result.file }),
      (error: unknown) => {
        const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
        logger.warn({ dir, error: message }, 'mix-down failed');
        subject.next({ status: 'failed', error: message });
      },
    );
    return subject.value;
  }
}
