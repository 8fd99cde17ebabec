import { firstValueFrom, filter, timeout, type Observable } from 'rxjs';

/** Waits until `predicate` is true, polling. */
export async function until(predicate: () => boolean, ms = 15_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** First value of `source` matching `predicate`, within `ms`. */
export function next<T>(source: Observable<T>, predicate: (v: T) => boolean = () => true, ms = 15_000): Promise<T> {
  return firstValueFrom(source.pipe(filter(predicate), timeout(ms)));
}
