import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { f, useServer } from './setup.js';

const env = useServer();

describe('Self', () => {
  it('is pushed on connect with the real server fields and shapes', async () => {
    const server = await env.start({ version: '1.2.3' });
    const a = await env.connect(server);
    const frame = JSON.parse(a.raw[0]!);
    expect(Object.keys(frame)).toEqual(['Data', 'From']);
    expect(frame.From).toBe(a.id);
    expect(Object.keys(frame.Data)).toEqual(['Type', 'Id', 'Sid', 'Userid', 'Suserid', 'Token', 'Version', 'ApiVersion', 'Turn', 'Stun']);
    expect(a.raw[0]!.endsWith('}\n')).toBe(true);
    const self = frame.Data;
    expect(self.Id).toMatch(/^[A-Za-z0-9_=-]{156}$/);
    expect(self.Sid).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(self.Token).toMatch(/^[A-Za-z0-9_=-]+$/);
    expect(self).toMatchObject({ Userid: '', Suserid: '', Version: '1.2.3', ApiVersion: 1.4, Stun: [] });
    expect(self.Turn).toEqual({ username: '', password: '', ttl: 0, urls: null });
  });

  it('is re-sent on request with a fresh Token, Iid echoed', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    const reply = await a.request({ Type: 'Self' }, 'x1');
    expect(reply.Iid).toBe('x1');
    expect(reply.From).toBe(a.id);
    expect(reply.Data.Id).toBe(a.id);
    expect(reply.Data.Token).not.toBe(a.self.Token);
  });

  it('carries TURN REST credentials only when a secret is set', async () => {
    const plain = await env.start({ turnUris: ['turn:127.0.0.1:3478'], stunUris: ['stun:127.0.0.1:3478'] });
    const a = await env.connect(plain);
    expect(a.self.Turn).toEqual({ username: '', password: '', ttl: 0, urls: null });
    expect(a.self.Stun).toEqual(['stun:127.0.0.1:3478']);

    const withSecret = await env.start({ turnSecret: 's3cret', turnUris: ['turn:127.0.0.1:3478'] });
    const b = await env.connect(withSecret);
    const turn = b.self.Turn;
    const [expiry, hash] = turn.username.split(':');
    expect(Number(expiry)).toBeGreaterThan(Date.now() / 1000);
    expect(hash).toBe(createHash('sha256').update(b.id).digest('base64'));
    expect(turn.password).toBe(createHmac('sha1', 's3cret').update(turn.username).digest('base64'));
    expect(turn.ttl).toBe(3600);
    expect(turn.urls).toEqual(['turn:127.0.0.1:3478']);
  });
});

describe('HTTP', () => {
  it('serves /api/v1/config and the well-known document', async () => {
    const server = await env.start({ version: 'v9', stunUris: ['stun:x'], basePath: '/spreed' });
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}/spreed/ws`);
    const config = await (await fetch(`http://127.0.0.1:${server.port}/spreed/api/v1/config`)).json();
    expect(config).toMatchObject({ Version: 'v9', Renegotiation: false, StunURIs: ['stun:x'], TurnURIs: [], DefaultRoomEnabled: true, B: '/spreed/' });
    const wellKnown = await (await fetch(`http://127.0.0.1:${server.port}/.well-known/spreed-configuration`)).json();
    expect(wellKnown).toEqual({ 'spreed-webrtc_endpoint': `http://127.0.0.1:${server.port}/spreed` });
    expect((await fetch(`http://127.0.0.1:${server.port}/nope`)).status).toBe(404);
    const a = await env.connect(server);
    expect(a.self.Version).toBe('v9');
  });
});

describe('Iid and errors', () => {
  it('echoes Iid only on direct replies and sends Error replies without an Iid', async () => {
    const { a, b } = await env.joinedPair('iid-room');
    // Relayed types ignore the Iid.
    a.send({ ...f.chat(b.id, { Message: 'x', NoEcho: true }), Iid: 'c1' });
    const chat = await b.nextOfType('Chat');
    expect(chat.Iid).toBeUndefined();
    // An error without Iid still comes back, with no Iid.
    a.send({ Type: 'Room', Room: { Name: 'other' } });
    const error = await a.nextOfType('Error');
    expect(error).toEqual({ Data: { Type: 'Error', Code: 'not_in_room', Message: 'Cannot update other rooms' }, From: a.id });
    // Alive reply echoes the Iid.
    const alive = await a.request({ Type: 'Alive', Alive: { Type: 'Alive', Alive: 5 } }, '7');
    expect(alive).toEqual({ Data: { Type: 'Alive', Alive: 5 }, From: a.id, Iid: '7' });
  });

  it('rejects requests without their inner document with bad_request', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    for (const type of ['Hello', 'Room', 'Sessions', 'Authentication']) {
      const reply = await a.request({ Type: type });
      expect(reply.Data).toMatchObject({ Type: 'Error', Code: 'bad_request' });
    }
  });

  it('answers Authentication with invalid_session_token (no user accounts)', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    const reply = await a.request({ Type: 'Authentication', Authentication: { Type: 'Authentication', Authentication: { Userid: 'u', Nonce: 'n' } } });
    expect(reply.Data).toMatchObject({ Type: 'Error', Code: 'invalid_session_token' });
  });
});
