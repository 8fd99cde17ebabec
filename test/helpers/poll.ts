/** Polls `fn` until `accept` holds or `timeoutMs` passes (usable in hooks, unlike expect.poll). */
export async function waitUntil<T>(fn: () => T | Promise<T>, accept: (v: T) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (accept(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last value: ${String(last)})`);
}
