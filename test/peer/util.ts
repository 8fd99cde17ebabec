import { firstValueFrom, filter, timeout, type Observable } from 'rxjs';
import type { RTCPeerConnection } from 'werift';
import { afterEach } from 'vitest';
import { CallManager, type Call, type CallManagerOptions } from '../../src/peer/index.js';
import type { Hub } from './hub.js';

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

/**
 * `bot(hub, id, options)` creates a CallManager on the hub; every one made is closed after each
 * test. Call at module level of a test file.
 */
export function useBots(): (hub: Hub, id: string, options?: Partial<CallManagerOptions>) => CallManager {
  const managers: CallManager[] = [];
  afterEach(() => {
    for (const m of managers.splice(0)) m.close();
  });
  return (hub, id, options = {}) => {
    const m = new CallManager({ signaling: hub.join(id), ...options });
    managers.push(m);
    return m;
  };
}

/** `a` calls `b` (which must accept) and resolves with both ends connected. */
export async function connectedCall(a: CallManager, b: CallManager, peerId: string): Promise<{ call: Call; callee: Call }> {
  const incoming = next(b.calls$);
  const call = a.call(peerId);
  await call.waitFor('connected');
  const callee = await incoming;
  await callee.waitFor('connected');
  return { call, callee };
}

/**
 * werift's ICE agent under `pc` (werift internals, as werift 0.24.4 has them), typed as the
 * caller needs it. Fails the test when the connection has no ICE transport yet.
 */
export function iceAgentOf<T>(pc: RTCPeerConnection): T {
  const transports = (pc as unknown as { iceTransports: { connection: T }[] }).iceTransports;
  if (transports.length === 0) throw new Error('the peer connection has no ICE transport yet');
  return transports[0]!.connection;
}
