import type { Subscription } from 'rxjs';
import type { Channel } from './channel.js';
import { ChannelError } from './errors.js';
import type { ChannelStatus } from './state.js';

/**
 * Resolves with the channel once it is in `status` (at once when it already is). Rejects with
 * ChannelError `timeout` after `timeoutOrSignal` ms, `aborted` when the signal fires, or
 * `closed` when the channel closes first.
 * @example `await entersState(channel, 'joined', 5000)`
 */
export function entersState(channel: Channel, status: ChannelStatus, timeoutOrSignal: number | AbortSignal): Promise<Channel> {
  return new Promise<Channel>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let signal: AbortSignal | undefined;
    const onAbort = () => finish(new ChannelError('aborted', `aborted while waiting for state '${status}'`, { cause: signal?.reason }));
    let done = false;
    let subscription: Subscription | undefined;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      queueMicrotask(() => subscription?.unsubscribe());
      if (error) reject(error);
      else resolve(channel);
    };
    if (typeof timeoutOrSignal === 'number') {
      timer = setTimeout(() => finish(new ChannelError('timeout', `state '${status}' not reached within ${timeoutOrSignal} ms (now '${channel.state.status}')`)), timeoutOrSignal);
    } else {
      signal = timeoutOrSignal;
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
    }
    subscription = channel.state$.subscribe({
      next: (state) => {
        if (state.status === status) finish();
      },
      complete: () =>
        channel.state.status === status
          ? finish()
          : finish(new ChannelError('closed', `the channel closed before reaching state '${status}'`)),
    });
    if (done) subscription.unsubscribe();
  });
}
