import { CodedError } from '../util/errors.js';

/** A server socket of the CLI could not listen (port in use, address not available, no permission). */
export class ListenError extends CodedError<'listen_failed'> {
  override readonly name = 'ListenError';

  /**
   * @param what which endpoint, e.g. `the health endpoint`
   * @param address where it tried to listen
   * @param hint what to change, e.g. `pick another with --port`
   */
  constructor(what: string, address: { host: string; port: number }, hint: string, cause: unknown) {
    const code = (cause as { code?: string } | undefined)?.code;
    const why =
      code === 'EADDRINUSE'
        ? 'the port is in use'
        : code === 'EACCES'
          ? 'permission denied (ports below 1024 need privileges)'
          : code === 'EADDRNOTAVAIL'
            ? 'no such local address'
            : (cause as Error | undefined)?.message ?? String(cause);
    super('listen_failed', `${what} cannot listen on ${address.host}:${address.port}: ${why}; ${hint}`, { cause });
  }

  /** A ListenError for a socket error (`EADDRINUSE`, …); any other error is returned as it is. */
  static from(what: string, address: { host: string; port: number }, hint: string, error: unknown): Error {
    const code = (error as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return new ListenError(what, address, hint, error);
    return error instanceof Error ? error : new Error(String(error));
  }
}
