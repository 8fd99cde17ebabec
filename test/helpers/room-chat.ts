import type { Subscription } from 'rxjs';
import { ofType } from '../../src/channel/index.js';
import type { Channel } from '../../src/channel/index.js';
import { frames } from '../../src/protocol/index.js';
import { next, participant } from './peers.js';

/** A plain (non-bot) participant that talks to bots in a room's chat. */
export class RoomChat {
  /** Display names of the sessions seen in the room, by session id. */
  private readonly names = new Map<string, string>();
  private readonly tracking: Subscription;

  private constructor(readonly channel: Channel) {
    this.tracking = channel.documents$.pipe(ofType('Joined', 'Status')).subscribe((r) => {
      const id = r.doc.Id ?? r.from;
      const name = (r.doc.Status as { displayName?: string } | null | undefined)?.displayName;
      if (id && name) this.names.set(id, name);
    });
  }

  /** Joins `room` on `url` as `name`. Join before the bot starts, so its Joined is seen. */
  static async join(url: string, room: string, name = 'Tester'): Promise<RoomChat> {
    return new RoomChat(await participant(url, room, name));
  }

  /** Resolves once a participant called `displayName` is in the room. */
  async arrival(displayName: string, ms = 60_000): Promise<void> {
    await next(
      this.channel.documents$.pipe(ofType('Joined', 'Status')),
      (r) => (r.doc.Status as { displayName?: string } | null | undefined)?.displayName === displayName,
      ms,
    );
  }

  /** Resolves when a participant called `displayName` (seen joining) leaves the room. */
  async departure(displayName: string, ms = 60_000): Promise<void> {
    await next(this.channel.documents$.pipe(ofType('Left')), (r) => this.names.get(r.doc.Id) === displayName, ms);
  }

  /**
   * Says `text` in the room and resolves with the first chat message matching `reply`. Says it
   * again every 5 s until then: a bot's Joined comes before its plugins are set up.
   */
  async ask(text: string, reply: RegExp, ms = 60_000): Promise<string> {
    const answer = next(this.channel.documents$.pipe(ofType('Chat')), (c) => reply.test(c.doc.Chat.Message ?? ''), ms);
    const say = () => this.channel.send(frames.chat('', { Message: text, NoEcho: true }));
    say();
    const repeat = setInterval(say, 5_000);
    try {
      return (await answer).doc.Chat.Message ?? '';
    } finally {
      clearInterval(repeat);
    }
  }

  async close(): Promise<void> {
    this.tracking.unsubscribe();
    await this.channel.close();
  }
}
