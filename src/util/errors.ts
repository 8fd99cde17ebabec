/**
 * Base of every spreed-bot error: a stable `code` callers can switch on, a message that says
 * what to do, and the underlying `cause`. Layers subclass it with their own code union.
 */
export class CodedError<C extends string = string> extends Error {
  constructor(
    /** What went wrong, stable across versions. */
    readonly code: C,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
