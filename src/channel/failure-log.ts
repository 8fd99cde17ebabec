import type { Logger } from '../util/logger.js';
import { sameCause, type ConnectionCause } from './cause.js';
import type { ConnectionFailure } from './state.js';

/**
 * The URL as it may appear in logs: scheme, host, port and path only. User info and the query
 * (where the session token `t` goes) are left out.
 */
export function displayUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/** What a failed attempt leads to: the next attempt, or nothing (the channel gives up). */
export interface NextAttempt {
  readonly attempt: number;
  readonly delayMs: number;
  readonly at: number;
}

const LEAD: Record<ConnectionFailure, string> = {
  connect: 'could not connect to',
  reconnect: 'could not reconnect to',
  lost: 'lost the connection to',
};

/** One line for a failure: `could not connect to ws://host/ws: connection refused (…): …`. */
export function describeFailure(failure: ConnectionFailure, url: string, cause: ConnectionCause): string {
  return `${LEAD[failure]} ${url}: ${cause.message}`;
}

/**
 * Connection failures in the log: one warn line per change of failure or cause, naming the URL,
 * the cause and the next retry; repeats of the same cause go to debug, so a server that stays
 * down for hours costs one warn line, not one per attempt.
 */
export class FailureLog {
  private last: { failure: ConnectionFailure; cause: ConnectionCause } | undefined;
  private failures = 0;

  constructor(
    private readonly log: Logger,
    private readonly url: string,
  ) {}

  /**
   * Logs a failed attempt or a lost connection; `next` is undefined when the channel gives up.
   * `rejected`: the give-up rejects connect(), whose caller reports it, so it is logged at debug.
   */
  failed(failure: ConnectionFailure, cause: ConnectionCause, next: NextAttempt | undefined, rejected = false): void {
    this.failures += 1;
    const repeat = this.last?.failure === failure && sameCause(this.last.cause, cause);
    this.last = { failure, cause };
    const fields = {
      url: this.url,
      failure,
      cause: cause.code,
      ...(next ? { attempt: next.attempt, delayMs: next.delayMs, nextRetryAt: new Date(next.at).toISOString() } : {}),
    };
    const then = next ? `retrying in ${seconds(next.delayMs)} (at ${clock(next.at)})` : 'giving up';
    const line = `channel: ${describeFailure(failure, this.url, cause)}; ${then}`;
    if ((repeat && next) || rejected) this.log.debug(fields, line);
    else this.log.warn(fields, line);
  }

  /** The connection is up: logs the recovery when something failed before, and starts afresh. */
  connected(): void {
    const n = this.failures;
    if (n > 0) this.log.info({ url: this.url, failures: n }, `channel: connected to ${this.url} after ${n} connection failure${n === 1 ? '' : 's'}`);
    this.failures = 0;
    this.last = undefined;
  }
}

function seconds(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** Local wall-clock time, as a person compares it with their own clock. */
function clock(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString('en-GB', { hour12: false });
}
