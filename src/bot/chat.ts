import { randomBytes } from 'node:crypto';
import { filter, merge, mergeMap, Observable, share, Subject, type Subscription } from 'rxjs';
import { frames, type ChatDoc, type ChatStatus, type OutgoingFrame, type Received } from '../protocol/index.js';
import type { Logger } from '../util/logger.js';

/** A chat message from another participant, as plugins see it. */
export interface IncomingChat {
  /** Sender session id. */
  readonly from: string;
  /** Sender display name at the time of receipt. */
  readonly fromName: string;
  /** True when the sender's Status marks it as a bot (`Status.bot`); `ctx.chat$` leaves these out. */
  readonly fromBot: boolean;
  /** True for a private message to the bot; false for group chat in the room. */
  readonly private: boolean;
  /** The text. */
  readonly text: string;
  /** Message id (32 hex) when the sender asked for delivery statuses. */
  readonly mid?: string;
  /** Server time (RFC 3339) when relayed by the server; absent over data channels. */
  readonly time?: string;
  /** The Chat Status sub-document (FileInfo, Geolocation, …) if any. */
  readonly status?: ChatStatus;
  /** The received document. */
  readonly received: Received<'Chat'>;
}

/** Delivery state of a message the bot sent with a Mid. */
export interface DeliveryStatus {
  readonly mid: string;
  /** `sent` (server accepted a private message), `delivered` (recipient's client shows it), `seen`. */
  readonly state: 'sent' | 'delivered' | 'seen';
  /** The peer that acknowledged (for `delivered`/`seen`) or the target (for `sent`). */
  readonly peer: string;
}

/** Options of {@link ChatApi.send}. */
export interface SendOptions {
  /** Recipient session id for a private message. @defaultValue `''` (group chat in the room) */
  to?: string;
  /** Extra Status sub-keys (e.g. FileInfo). */
  status?: ChatStatus;
}

/** Chat operations for plugins. */
export interface ChatApi {
  /** Sends a message (NoEcho, with a fresh Mid) and returns the Mid. */
  send(text: string, options?: SendOptions): string;
  /** Replies privately to a private message, or to the room for a group message. */
  reply(message: IncomingChat, text: string): string;
  /** Sends the typing indicator to a peer (private chats only, like the web client). */
  typing(to: string, state: 'start' | 'stop'): void;
  /** Delivery statuses of messages the bot sent. */
  readonly delivery$: Observable<DeliveryStatus>;
  /** Feeds a Chat that arrived outside the server (a call's data channel) into `chat$`. */
  receive(received: Received<'Chat'>): void;
}

/** Minimal channel surface the chat service needs. */
export interface ChatTransport {
  readonly documents$: Observable<Received>;
  readonly id: string | undefined;
  send(frame: OutgoingFrame): void;
}

/** What the chat service needs to know about a sender. */
export interface SenderLookup {
  /** Display name of a session id. */
  displayName(id: string): string;
  /** True when the session's Status marks it as a bot. */
  isBot(id: string): boolean;
}

/** Longest message the web client accepts (PROTOCOL-NOTES §7.1). */
export const MAX_CHAT_LENGTH = 200_000;

/** 16 random bytes as hex, like the web client's Mid. */
export function newMid(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The bot's chat: parses incoming Chat documents into {@link IncomingChat}s, acknowledges
 * private messages that carry a Mid the way the web client does (`delivered`, Mid inside
 * Status only, so the server makes no further status), and tracks delivery of its own messages.
 */
export class ChatService implements ChatApi {
  readonly messages$: Observable<IncomingChat>;
  readonly delivery$: Observable<DeliveryStatus>;
  readonly #transport: ChatTransport;
  readonly #logger: Logger;
  readonly #extra = new Subject<Received<'Chat'>>();
  readonly #ackSubscription: Subscription;

  constructor(transport: ChatTransport, senders: SenderLookup, logger: Logger) {
    this.#transport = transport;
    this.#logger = logger;
    const chats$ = merge(
      transport.documents$.pipe(filter((r): r is Received<'Chat'> => r.kind === 'Chat')),
      this.#extra,
    ).pipe(share());
    this.messages$ = chats$.pipe(
      mergeMap((r) => {
        const message = this.#toMessage(r, senders);
        return message ? [message] : [];
      }),
      share(),
    );
    this.delivery$ = chats$.pipe(
      mergeMap((r) => this.#toDelivery(r)),
      share(),
    );
    this.#ackSubscription = this.messages$.subscribe((m) => {
      if (m.private && m.mid) this.#ack(m.from, m.mid);
    });
  }

  receive(received: Received<'Chat'>): void {
    this.#extra.next(received);
  }

  send(text: string, options: SendOptions = {}): string {
    if (text.length > MAX_CHAT_LENGTH) throw new RangeError(`chat message of ${text.length} chars exceeds ${MAX_CHAT_LENGTH}`);
    const mid = newMid();
    this.#transport.send(
      frames.chat(options.to ?? '', { Mid: mid, Message: text, NoEcho: true, ...(options.status ? { Status: options.status } : {}) }),
    );
    return mid;
  }

  reply(message: IncomingChat, text: string): string {
    return this.send(text, { to: message.private ? message.from : '' });
  }

  typing(to: string, state: 'start' | 'stop'): void {
    this.#transport.send(frames.chat(to, { Message: null, Status: { Typing: state }, NoEcho: true }));
  }

  close(): void {
    this.#ackSubscription.unsubscribe();
    this.#extra.complete();
  }

  #ack(to: string, mid: string): void {
    try {
      this.#transport.send(frames.chat(to, { Mid: null, Message: null, Status: { State: 'delivered', Mid: mid }, NoEcho: true }));
    } catch (error) {
      this.#logger.debug({ err: error }, 'could not acknowledge chat message');
    }
  }

  #toMessage(r: Received<'Chat'>, senders: SenderLookup): IncomingChat | undefined {
    const own = this.#transport.id;
    const doc: ChatDoc = r.doc;
    if (!r.from || r.from === own) return undefined; // own echo or server "sent" status
    const text = doc.Chat.Message;
    if (typeof text !== 'string' || text === '') return undefined; // typing, acks, SeenMids
    const isPrivate = doc.To !== '';
    if (isPrivate && own !== undefined && doc.To !== own) return undefined; // not for us (PROTOCOL-NOTES §7.3)
    return {
      from: r.from,
      fromName: senders.displayName(r.from),
      fromBot: senders.isBot(r.from),
      private: isPrivate,
      text,
      mid: doc.Chat.Mid ?? undefined,
      time: doc.Chat.Time || undefined,
      status: doc.Chat.Status ?? undefined,
      received: r,
    };
  }

  *#toDelivery(r: Received<'Chat'>): Iterable<DeliveryStatus> {
    const status = r.doc.Chat.Status;
    if (!status) return;
    const own = this.#transport.id;
    if (r.from === own && status.State === 'sent' && r.doc.Chat.Mid) {
      yield { mid: r.doc.Chat.Mid, state: 'sent', peer: r.doc.To };
      return;
    }
    if (r.from === own) return;
    if (status.State === 'delivered' && status.Mid) yield { mid: status.Mid, state: 'delivered', peer: r.from };
    for (const mid of status.SeenMids ?? []) yield { mid, state: 'seen', peer: r.from };
  }
}

/** Narrow helper for plugins: chat messages that look like a command (`!name args`). */
export function isCommand(message: IncomingChat, prefix = '!'): boolean {
  return message.text.startsWith(prefix);
}

