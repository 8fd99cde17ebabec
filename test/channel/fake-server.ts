import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseClientFrame } from '../../src/protocol/index.js';

/*
 * A small scripted channeling server for channel tests, built on the protocol's own client-frame
 * parser: Self with resumable Token, Hello/Welcome with PINs, Joined/Left, Status with Rev,
 * Chat/Offer relays, Alive echo, Users, Leave. Behaviour follows PROTOCOL-NOTES §2.
 */

interface Session {
  id: string;
  token: string;
  socket?: WebSocket;
  room?: string;
  rev: number;
  ua?: string;
  status?: Record<string, unknown>;
}

export interface FakeServer {
  url: string;
  /** Every parsed frame received, per session id. */
  received: { id: string; type: string; doc: any; iid?: string }[];
  sessions: Map<string, Session>;
  /** Terminates the server-side socket of a session (simulated network loss). */
  drop(id: string): void;
  /** Sets or clears a room PIN. */
  setPin(room: string, pin: string | undefined): void;
  close(): Promise<void>;
}

export async function startFakeServer(opts: { turnTtl?: number } = {}): Promise<FakeServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const sessions = new Map<string, Session>();
  const byToken = new Map<string, Session>();
  const pins = new Map<string, string>();
  const received: FakeServer['received'] = [];

  const send = (s: Session, data: object, extra: Record<string, unknown> = {}) => {
    if (s.socket?.readyState === 1) s.socket.send(JSON.stringify({ Data: data, ...extra }) + '\n');
  };
  const members = (room: string) => [...sessions.values()].filter((s) => s.room === room && s.socket);
  const entry = (s: Session) => ({ Type: 'Online', Id: s.id, Ua: s.ua, Rev: s.rev, Prio: 100, ...(s.status ? { Status: s.status } : {}) });
  const selfDoc = (s: Session) => ({
    Type: 'Self', Id: s.id, Sid: 'sid' + s.id.slice(0, 8), Userid: '', Suserid: '', Token: s.token, Version: 'fake.1', ApiVersion: 1.4,
    Turn: opts.turnTtl ? { username: 'u', password: 'p', ttl: opts.turnTtl, urls: ['turn:127.0.0.1:3478'] } : { username: '', password: '', ttl: 0, urls: null },
    Stun: [],
  });
  const leaveRoom = (s: Session, status: 'soft' | 'hard') => {
    if (!s.room) return;
    const room = s.room;
    s.room = undefined;
    for (const m of members(room)) send(m, { Type: 'Left', Id: s.id, Status: status }, { From: s.id });
  };

  wss.on('connection', (socket, request) => {
    const token = new URL(request.url ?? '/', 'http://x').searchParams.get('t');
    let session = token ? byToken.get(token) : undefined;
    if (session) {
      const old = session.socket;
      session.socket = undefined;
      old?.terminate();
      session.room = undefined;
      session.rev = 0;
      session.status = undefined;
    } else {
      session = { id: randomBytes(24).toString('base64url'), token: randomBytes(48).toString('base64url'), rev: 0 };
      sessions.set(session.id, session);
      byToken.set(session.token, session);
    }
    const s = session;
    s.socket = socket;
    send(s, selfDoc(s), { From: s.id });
    socket.on('close', () => {
      if (s.socket !== socket) return;
      s.socket = undefined;
      leaveRoom(s, 'hard');
    });
    socket.on('message', (data) => {
      const parsed = parseClientFrame(data.toString());
      if (!parsed.ok) return;
      const { type, doc, iid } = parsed.value;
      received.push({ id: s.id, type, doc, iid });
      const reply = (d: object) => send(s, d, { From: s.id, ...(iid ? { Iid: iid } : {}) });
      const error = (code: string) => reply({ Type: 'Error', Code: code, Message: code.replace(/_/g, ' ') });
      switch (type) {
        case 'Self':
          return reply(selfDoc(s));
        case 'Alive':
          return reply({ Type: 'Alive', Alive: doc.Alive });
        case 'Hello': {
          const name: string = doc.Name;
          const pin = pins.get(name);
          const given: string | undefined = doc.Credentials?.PIN;
          const exists = members(name).length > 0 || pins.has(name);
          if (!exists && given) pins.set(name, given);
          else if (pin === undefined && doc.Credentials) return error('authorization_not_required');
          else if (pin !== undefined && !doc.Credentials) return error('authorization_required');
          else if (pin !== undefined && given !== pin) return error('invalid_credentials');
          if (s.room !== name) leaveRoom(s, 'soft');
          s.room = name;
          s.ua = doc.Ua;
          s.rev++;
          for (const m of members(name)) if (m !== s) send(m, { Type: 'Joined', Id: s.id, Ua: s.ua, Prio: 100, ...(s.status ? { Status: s.status } : {}) }, { From: s.id });
          return reply({ Type: 'Welcome', Room: { Type: 'Room', Name: name, Credentials: null }, Users: members(name).map(entry) });
        }
        case 'Status':
          s.status = doc.Status;
          s.rev++;
          if (s.room) for (const m of members(s.room)) if (m !== s) send(m, { Type: 'Status', Id: s.id, Rev: s.rev, Prio: 100, Status: s.status }, { From: s.id });
          return;
        case 'Leave':
          return leaveRoom(s, 'soft');
        case 'Users':
          return s.room ? reply({ Type: 'Users', Users: members(s.room).map(entry) }) : error('not_in_room');
        case 'Chat': {
          const data = { To: doc.To, Type: 'Chat', Chat: { ...doc.Chat, Time: new Date().toISOString(), Status: doc.Chat?.Status ?? null } };
          if (doc.To) {
            const target = sessions.get(doc.To);
            if (target) send(target, data, { From: s.id, To: target.id });
          } else if (s.room) {
            for (const m of members(s.room)) if (m !== s) send(m, data, { From: s.id });
          }
          return;
        }
        case 'Offer':
        case 'Answer':
        case 'Candidate':
        case 'Bye': {
          const target = sessions.get(doc.To);
          if (target) send(target, { Type: type, To: doc.To, [type]: doc[type] ?? {} }, { From: s.id, To: target.id });
          return;
        }
        default:
          return;
      }
    });
  });

  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    received,
    sessions,
    drop(id) {
      sessions.get(id)?.socket?.terminate();
    },
    setPin(room, pin) {
      if (pin === undefined) pins.delete(room);
      else pins.set(room, pin);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}
