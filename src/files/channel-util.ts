import { BYE_MESSAGE } from './chunk.js';
import type { ChunkChannel } from './types.js';

/**
 * Sends `{"m":"bye"}` and closes the channel once the bye left the local buffer (or after
 * `maxWaitMs`), so the peer sees the bye before the close. Never throws; does not block.
 */
export function sayByeAndClose(channel: ChunkChannel, maxWaitMs = 500): void {
  if (!channel.isOpen) return;
  try {
    channel.send(BYE_MESSAGE);
  } catch {
    channel.close();
    return;
  }
  const started = Date.now();
  const check = (): void => {
    if (!channel.isOpen) return;
    if (channel.bufferedAmount === 0 || Date.now() - started >= maxWaitMs) channel.close();
    else setTimeout(check, 10).unref();
  };
  setTimeout(check, 10).unref();
}
