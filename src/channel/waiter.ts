/** The two ends of a promise someone else settles. */
export interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

/** A promise settled from outside, at most once; later resolve/reject calls are ignored. */
export class Deferred<T> {
  /** The promise; settled by {@link Deferred.resolve} or {@link Deferred.reject}. */
  readonly promise: Promise<T>;
  private waiter!: Waiter<T>;
  private done = false;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** True once resolved or rejected. */
  get settled(): boolean {
    return this.done;
  }

  /** Resolves the promise unless already settled. */
  resolve(value: T): void {
    if (this.done) return;
    this.done = true;
    this.waiter.resolve(value);
  }

  /** Rejects the promise unless already settled. */
  reject(error: Error): void {
    if (this.done) return;
    this.done = true;
    this.waiter.reject(error);
  }
}
