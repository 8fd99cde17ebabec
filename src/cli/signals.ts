/** The signals that ask a command to stop: a terminal's Ctrl-C and the service manager's stop. */
const stopSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Listens for SIGINT and SIGTERM from the moment it is created, so a stop request that arrives
 * while the command is still loading its configuration or retrying a server is never lost.
 * The first signal resolves {@link ShutdownSignals.first}; later ones call the `onRepeat`
 * callback (the caller forces a quicker stop then). Only the Node process itself is stopped
 * by these signals' default action, so a command that holds children (ffmpeg) must create this
 * before it starts any of them.
 */
export class ShutdownSignals {
  /** Resolves with the first SIGINT/SIGTERM. */
  readonly first: Promise<NodeJS.Signals>;
  #received: NodeJS.Signals | undefined;
  #onRepeat: ((signal: NodeJS.Signals) => void) | undefined;
  #resolve!: (signal: NodeJS.Signals) => void;
  readonly #handler = (signal: NodeJS.Signals): void => {
    if (this.#received) {
      this.#onRepeat?.(signal);
      return;
    }
    this.#received = signal;
    this.#resolve(signal);
  };

  constructor() {
    this.first = new Promise((resolve) => (this.#resolve = resolve));
    for (const signal of stopSignals) process.on(signal, this.#handler);
  }

  /** The first signal received so far, if any. */
  get received(): NodeJS.Signals | undefined {
    return this.#received;
  }

  /** Sets what a second (third, …) signal does. */
  onRepeat(callback: (signal: NodeJS.Signals) => void): void {
    this.#onRepeat = callback;
  }

  /** Stops listening: the signals' default action (terminate) applies again. Idempotent. */
  dispose(): void {
    for (const signal of stopSignals) process.off(signal, this.#handler);
  }
}

/**
 * Resolves on the first SIGINT or SIGTERM; `onSecond` runs if another one arrives
 * (the caller forces a quicker stop then).
 */
export function waitForSignal(onSecond?: (signal: NodeJS.Signals) => void): Promise<NodeJS.Signals> {
  const signals = new ShutdownSignals();
  if (onSecond) signals.onRepeat(onSecond);
  return signals.first;
}
