import { Subject } from 'rxjs';
import { parseEnvelopeObject, type OutgoingFrame, type Received } from '../../src/protocol/index.js';
import type { IceServer, Signaling } from '../../src/peer/index.js';

/** What a test interceptor may do with a frame: pass, drop, change, or delay it. */
export type Intercept = (frame: OutgoingFrame, from: string) => OutgoingFrame | null | { frame: OutgoingFrame; delayMs: number };

/**
 * In-memory signalling hub that routes frames like the channeling server: unicasts only to `To`
 * with `From` = sender, Conference docs to every listed id but the sender, nothing for unknown ids.
 * Frames are validated with the protocol parser like the real Channel does. Delivery is async and
 * ordered per hub.
 */
export class Hub {
  private readonly peers = new Map<string, HubPeer>();
  /** Every frame sent, in order, with its sender. */
  readonly log: { from: string; frame: OutgoingFrame }[] = [];
  intercept: Intercept | undefined;
  private chain: Promise<void> = Promise.resolve();

  join(id: string): HubPeer {
    const peer = new HubPeer(id, this);
    this.peers.set(id, peer);
    return peer;
  }

  /** The hub end of a joined peer. */
  peer(id: string): HubPeer | undefined {
    return this.peers.get(id);
  }

  leave(id: string, status: 'hard' | 'soft' = 'hard'): void {
    this.peers.delete(id);
    for (const p of this.peers.values()) this.deliver(p, { Data: { Type: 'Left', Id: id, Status: status }, From: id });
  }

  /** A server-generated Conference document (Conference-type room). */
  serverConference(room: string): void {
    const ids = [...this.peers.keys()];
    for (const p of this.peers.values())
      this.deliver(p, { Data: { Type: 'Conference', Id: `Conference:${room}`, Conference: ids }, To: `Conference:${room}` });
  }

  deliver(peer: HubPeer, envelope: Record<string, unknown>, delayMs = 0): void {
    const raw = JSON.parse(JSON.stringify(envelope)) as unknown;
    const parsed = parseEnvelopeObject(raw);
    if (!parsed.ok) throw new Error(`hub: invalid envelope: ${parsed.reason}`);
    const push = () => {
      if (this.peers.get(peer.id) === peer) peer.incoming.next(parsed.value);
    };
    if (delayMs > 0) setTimeout(push, delayMs);
    else this.chain = this.chain.then(() => new Promise<void>((r) => setImmediate(() => (push(), r()))));
  }

  route(from: string, original: OutgoingFrame): void {
    let frame: OutgoingFrame | null = original;
    let delayMs = 0;
    if (this.intercept) {
      const r = this.intercept(original, from);
      if (r === null) return;
      if ('delayMs' in r) {
        frame = r.frame;
        delayMs = r.delayMs;
      } else frame = r;
    }
    this.log.push({ from, frame });
    const inner = (frame as Record<string, unknown>)[frame.Type] as Record<string, unknown> | undefined;
    if (!inner) return;
    if (frame.Type === 'Conference') {
      for (const id of inner.Conference as string[]) {
        const p = this.peers.get(id);
        if (p && id !== from) this.deliver(p, { Data: inner, From: from, To: id }, delayMs);
      }
      return;
    }
    if (['Offer', 'Answer', 'Candidate', 'Bye', 'Chat'].includes(frame.Type)) {
      const to = inner.To as string;
      const p = this.peers.get(to);
      if (p) this.deliver(p, { Data: inner, From: from, To: to }, delayMs);
    }
  }

  /** Sends a raw frame as `from` (to forge protocol situations). */
  peers_send(from: string, frame: OutgoingFrame): void {
    this.route(from, frame);
  }

  /** Frames of one type sent by anyone. */
  sent<T extends OutgoingFrame['Type']>(type: T): { from: string; frame: Extract<OutgoingFrame, { Type: T }> }[] {
    return this.log.filter((e) => e.frame.Type === type) as { from: string; frame: Extract<OutgoingFrame, { Type: T }> }[];
  }
}

export class HubPeer implements Signaling {
  readonly incoming = new Subject<Received>();
  readonly documents$ = this.incoming.asObservable();
  constructor(
    readonly id: string,
    private readonly hub: Hub,
  ) {}
  send(frame: OutgoingFrame): void {
    this.hub.route(this.id, frame);
  }
  iceServers(): IceServer[] {
    return [];
  }
}
