/**
 * Resolves on the first SIGINT or SIGTERM; `onSecond` runs if a second one arrives
 * (the caller forces a quicker stop then).
 */
export function waitForSignal(onSecond?: (signal: NodeJS.Signals) => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const handler = (signal: NodeJS.Signals) => {
      if (!seen) {
        seen = true;
        resolve(signal);
      } else onSecond?.(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
