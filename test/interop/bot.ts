/**
 * Bot side of interop tests: the real Channel and CallManager (src/channel, src/peer), driven
 * directly, without the bot framework.
 */
import { Observable } from 'rxjs';
import type { RTCDataChannel } from 'werift';
import { Channel } from '../../src/channel/index.js';
import { CallManager, type CallManagerOptions } from '../../src/peer/index.js';

export interface TestBot {
  channel: Channel;
  calls: CallManager;
  /** Own session id. */
  id: string;
  close(): Promise<void>;
}

/** Connects a Channel, joins `room` (when given) with a Status, and starts a CallManager on it. */
export async function startBot(url: string, room: string | undefined, options: Omit<CallManagerOptions, 'signaling'> = {}): Promise<TestBot> {
  const channel = new Channel({ url, ua: 'spreed-bot interop' });
  const calls = new CallManager({ signaling: channel, ...options });
  try {
    await channel.connect();
    channel.setStatus({ displayName: 'Bot', buddyPicture: null, message: null });
    if (room !== undefined) await channel.hello({ room });
  } catch (e) {
    calls.close();
    await channel.close();
    throw e;
  }
  let closed = false;
  return {
    channel,
    calls,
    id: channel.id!,
    close: async () => {
      if (closed) return;
      closed = true;
      calls.close();
      await channel.close();
    },
  };
}

/** Text messages of a werift data channel as an Observable. */
export function channelText(dc: RTCDataChannel): Observable<string> {
  return new Observable<string>((subscriber) => {
    const sub = dc.onMessage.subscribe((m) => subscriber.next(typeof m === 'string' ? m : `binary:${m.length}`));
    return () => sub.unSubscribe();
  });
}
