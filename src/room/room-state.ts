import { BehaviorSubject, Subject, type Observable, type Subscription } from 'rxjs';
import type { Channel } from '../channel/index.js';
import type { JoinedDoc, Received, SessionStatus, StatusDoc, UserEntry } from '../protocol/index.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { displayNameOf, type LeftEvent, type Participant } from './participant.js';

type Users = ReadonlyMap<string, Participant>;

/**
 * Who is in the room, derived from a {@link Channel}'s documents: seeded from Welcome.Users,
 * updated by Joined/Left/Status/Users, cleared on a room change or leave. Own session is never
 * listed. Status documents older (lower Rev) than what is known are ignored; a re-Joined with a
 * known id (a peer that resumed its session) restarts its Rev, as the server does.
 */
export class RoomState {
  /** The current participants (a fresh immutable snapshot per change); replays the latest. */
  readonly users$: Observable<Users>;
  /** Someone new appeared in the room (not emitted for the Welcome seed). */
  readonly joined$: Observable<Participant>;
  /** Someone left the room. */
  readonly left$: Observable<LeftEvent>;

  private readonly usersSubject = new BehaviorSubject<Users>(new Map());
  private readonly joinedSubject = new Subject<Participant>();
  private readonly leftSubject = new Subject<LeftEvent>();
  private readonly subscriptions: Subscription[] = [];
  private readonly log: Logger;
  private room: string | undefined;
  private closed = false;
  private wasJoined = false;

  /** Starts following `channel`; call {@link RoomState.close} (or close the channel) to stop. */
  constructor(
    private readonly channel: Channel,
    options: { logger?: Logger } = {},
  ) {
    this.log = options.logger ?? silentLogger;
    this.users$ = this.usersSubject.asObservable();
    this.joined$ = this.joinedSubject.asObservable();
    this.left$ = this.leftSubject.asObservable();
    // Created after the Welcome: the room is known, its users come with the next Users reply.
    const state = channel.state;
    if (state.status === 'joined') this.room = state.room.Name;
    this.subscriptions.push(
      channel.documents$.subscribe({ next: (received) => this.apply(received), complete: () => this.close() }),
      channel.state$.subscribe((state) => {
        // leave() (joined → connected without a socket loss) empties the room.
        if (state.status === 'connected' && this.room !== undefined && this.wasJoined) this.reset(undefined);
        this.wasJoined = state.status === 'joined';
      }),
    );
  }

  /** Own session id (never a key of the map). */
  get ownId(): string | undefined {
    return this.channel.id;
  }

  /** Name of the room the participants belong to. */
  get roomName(): string | undefined {
    return this.room;
  }

  /** The current participants. */
  get users(): Users {
    return this.usersSubject.getValue();
  }

  /** A participant by session id. */
  get(id: string): Participant | undefined {
    return this.users.get(id);
  }

  /** Display name of a session: its status displayName, or an id prefix when unknown. */
  displayName(id: string): string {
    return this.get(id)?.displayName ?? displayNameOf(id, undefined);
  }

  /** Stops following the channel and completes the observables. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    this.usersSubject.complete();
    this.joinedSubject.complete();
    this.leftSubject.complete();
  }

  private apply(received: Received): void {
    try {
      switch (received.kind) {
        case 'Welcome':
          this.seed(received.doc.Room.Name, received.doc.Users);
          break;
        case 'Users':
          if (this.room !== undefined && received.iid !== undefined) this.seed(this.room, received.doc.Users);
          break;
        case 'Joined':
          this.joined(received.doc);
          break;
        case 'Left':
          this.left(received.doc.Id, received.doc.Status === 'soft' ? 'soft' : 'hard');
          break;
        case 'Status':
          this.status(received.doc);
          break;
        default:
          break;
      }
    } catch (error) {
      this.log.error({ err: error, kind: received.kind }, 'room: failed to apply a document');
    }
  }

  private isOwn(id: string): boolean {
    return id === this.channel.id;
  }

  private reset(room: string | undefined): void {
    this.room = room;
    if (this.users.size > 0) this.usersSubject.next(new Map());
  }

  /** Welcome (or a Users reply): the full list. On the same room, the difference becomes joined/left. */
  private seed(room: string, entries: UserEntry[]): void {
    const sameRoom = room === this.room;
    const before = sameRoom ? this.users : new Map<string, Participant>();
    this.room = room;
    const next = new Map<string, Participant>();
    const arrived: Participant[] = [];
    for (const entry of entries) {
      if (this.isOwn(entry.Id) || next.has(entry.Id)) continue;
      const known = before.get(entry.Id);
      const participant = make(entry.Id, {
        ua: entry.Ua ?? known?.ua ?? '',
        status: entry.Status ?? known?.status ?? null,
        rev: entry.Rev ?? 0,
        userid: entry.Userid ?? known?.userid,
        joinedAt: known?.joinedAt,
      });
      next.set(entry.Id, participant);
      if (sameRoom && !known) arrived.push(participant);
    }
    const gone = sameRoom ? [...before.values()].filter((p) => !next.has(p.id)) : [];
    this.usersSubject.next(next);
    for (const p of arrived) this.joinedSubject.next(p);
    for (const p of gone) this.leftSubject.next({ id: p.id, status: 'hard', participant: p });
  }

  private joined(doc: JoinedDoc): void {
    if (this.isOwn(doc.Id) || this.room === undefined) return;
    const known = this.get(doc.Id);
    // A re-Joined with a known id is a resumed session: its Rev restarted from 0 (PROTOCOL-NOTES §2.6).
    const participant = make(doc.Id, {
      ua: doc.Ua ?? known?.ua ?? '',
      status: doc.Status ?? known?.status ?? null,
      rev: 0,
      userid: doc.Userid ?? known?.userid,
      joinedAt: known?.joinedAt,
    });
    this.put(participant);
    if (!known) this.joinedSubject.next(participant);
  }

  private left(id: string, status: 'soft' | 'hard'): void {
    if (this.isOwn(id)) return;
    const participant = this.get(id);
    if (participant) {
      const next = new Map(this.users);
      next.delete(id);
      this.usersSubject.next(next);
    }
    this.leftSubject.next({ id, status, ...(participant ? { participant } : {}) });
  }

  private status(doc: StatusDoc): void {
    if (!doc.Id || this.isOwn(doc.Id) || this.room === undefined) return;
    if (doc.Status === null) return; // the web client ignores a null Status too
    const known = this.get(doc.Id);
    if (known && doc.Rev !== undefined && doc.Rev < known.rev) {
      this.log.debug({ id: doc.Id, rev: doc.Rev, known: known.rev }, 'room: ignored an older Status');
      return;
    }
    const participant = make(doc.Id, {
      ua: known?.ua ?? '',
      status: doc.Status,
      rev: doc.Rev ?? known?.rev ?? 0,
      userid: doc.Userid ?? known?.userid,
      joinedAt: known?.joinedAt,
    });
    this.put(participant);
    // A Status from someone not yet known means the Joined was missed: they are here now.
    if (!known) this.joinedSubject.next(participant);
  }

  private put(participant: Participant): void {
    const next = new Map(this.users);
    next.set(participant.id, participant);
    this.usersSubject.next(next);
  }
}

function make(
  id: string,
  fields: { ua: string; status: SessionStatus | null; rev: number; userid?: string; joinedAt?: number },
): Participant {
  return {
    id,
    ua: fields.ua,
    status: fields.status,
    rev: fields.rev,
    ...(fields.userid ? { userid: fields.userid } : {}),
    displayName: displayNameOf(id, fields.status),
    joinedAt: fields.joinedAt ?? Date.now(),
  };
}
