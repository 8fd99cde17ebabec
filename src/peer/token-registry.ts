import { Subject, type Observable } from 'rxjs';
import type { CandidateMap, SdpMap } from '../protocol/index.js';
import { PeerError } from './errors.js';
import type { ManagerCore } from './manager-core.js';
import { TokenConnection, nextConnectionId, tokenKey, tokenMatches, type TokenContext, type TokenRegistration } from './token.js';

/**
 * The token connections of a {@link CallManager}: the registered tokens, the open connections by
 * key, incoming token Offers, outgoing connections, and routing of their Answers and Candidates.
 */
export class TokenRegistry {
  private readonly tokenMap = new Map<string, TokenConnection>();
  private readonly registrations = new Set<TokenRegistration>();
  private readonly tokenSubject = new Subject<TokenConnection>();

  /** Every token connection, incoming and outgoing, once created. */
  readonly connections$: Observable<TokenConnection> = this.tokenSubject.asObservable();

  constructor(private readonly core: ManagerCore) {}

  /** The open token connections. */
  get connections(): readonly TokenConnection[] {
    return [...this.tokenMap.values()];
  }

  /** Adds a registration; returns the function removing it again. */
  register(registration: TokenRegistration): () => void {
    this.registrations.add(registration);
    return () => {
      this.registrations.delete(registration);
    };
  }

  /**
   * Opens a token connection to `peerId` and resolves once its `"default"` data channel is open.
   * @throws PeerError `timeout`, `aborted`, `closed`, or `negotiation-failed` wrapping other errors
   */
  async connect(
    peerId: string,
    token: string,
    options: { signal?: AbortSignal; timeoutMs?: number; video?: 'recvonly'; audio?: 'recvonly' },
  ): Promise<TokenConnection> {
    const connection = this.create(peerId, token, nextConnectionId(), 'outgoing');
    try {
      await connection.start({ video: options.video, audio: options.audio });
      await connection.channelOpen(options.timeoutMs ?? 20_000, options.signal);
      return connection;
    } catch (err) {
      connection.close();
      throw err instanceof PeerError ? err : new PeerError('negotiation-failed', `token connection to ${peerId} failed`, { cause: err });
    }
  }

  /** Hands a token Answer (`map._token` = `token`) to its connection, closing it when applying the Answer fails. */
  handleAnswer(from: string, token: string, map: SdpMap): void {
    const conn = this.tokenMap.get(tokenKey(from, token, map._id ?? ''));
    conn?.handleAnswer(map).catch((err: unknown) => {
      this.core.log.warn({ peer: from, err: String(err) }, 'token Answer failed');
      conn.close();
    });
  }

  /** Hands a token Candidate (`map._token` = `token`) to its connection. */
  handleCandidate(from: string, token: string, map: CandidateMap): void {
    this.tokenMap.get(tokenKey(from, token, map._id ?? ''))?.handleCandidate(map);
  }

  /**
   * An incoming token Offer: renegotiates an existing connection, or answers it for the first
   * matching registration. Offers for unknown tokens are ignored silently, like the web client.
   */
  handleOffer(from: string, offer: SdpMap): void {
    const token = offer._token as string;
    const id = offer._id ?? '';
    const existing = this.tokenMap.get(tokenKey(from, token, id));
    if (existing && !existing.isClosed && existing.token === token) {
      existing.answer(offer).catch(() => existing.close()); // renegotiation of a token connection
      return;
    }
    const registration = [...this.registrations].find((r) => tokenMatches(r.match, token));
    if (!registration) {
      this.core.log.debug({ peer: from, token: token.slice(0, 24) }, 'Offer for an unknown token ignored');
      return;
    }
    const connection = this.create(from, token, id, 'incoming');
    connection
      .answer(offer, registration.prepareAnswer ? (pc) => registration.prepareAnswer?.(pc, connection) : undefined)
      .then(() => connection.channelOpen())
      .then(
        () => {
          try {
            registration.onConnection(connection);
          } catch (err) {
            this.core.log.warn({ peer: from, err: String(err) }, 'token handler threw');
          }
        },
        (err: unknown) => {
          this.core.log.debug({ peer: from, err: String(err) }, 'incoming token connection failed');
          connection.close();
        },
      );
  }

  /** Closes every token connection with `peerId`. */
  closePeer(peerId: string): void {
    for (const c of [...this.tokenMap.values()]) if (c.peerId === peerId) c.close();
  }

  /** Closes every token connection. */
  closeAll(): void {
    for (const c of [...this.tokenMap.values()]) c.close();
  }

  /** Completes {@link TokenRegistry.connections$}. */
  complete(): void {
    this.tokenSubject.complete();
  }

  private create(peerId: string, token: string, id: number | string, direction: 'incoming' | 'outgoing'): TokenConnection {
    const ctx: TokenContext = {
      link: this.core.linkOptions(),
      logger: this.core.log,
      onPeerConnection: this.core.options.onPeerConnection,
      onClosed: (c) => {
        if (this.tokenMap.get(c.key) === c) this.tokenMap.delete(c.key);
      },
    };
    const connection = new TokenConnection(peerId, token, id, direction, ctx);
    this.tokenMap.get(connection.key)?.close();
    this.tokenMap.set(connection.key, connection);
    this.tokenSubject.next(connection);
    return connection;
  }
}
