import { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { settle, TestClient } from './client.js';
import { f, useServer } from './setup.js';

const env = useServer();

describe('resume with ?t=', () => {
  it('keeps Id and Sid, drops the old socket without a Left, routes unicasts to the new socket', async () => {
    const { server, a, b } = await env.joinedPair('resume-room');
    const resumed = await env.connect(server, { token: a.self.Token });
    expect(resumed.id).toBe(a.id);
    expect(resumed.self.Sid).toBe(a.self.Sid);
    expect((await a.closed).code).toBe(1006);
    await settle(resumed, b);
    expect(b.drain()).toEqual([]); // no Left
    b.send(f.chat(a.id, { Message: 'still there?', NoEcho: true }));
    expect((await resumed.nextOfType('Chat')).Data.Chat.Message).toBe('still there?');
    // Membership is not kept: re-Hello shows Joined with the same Id, Rev restarts.
    const welcome = await resumed.hello('resume-room');
    expect(welcome.Data.Users.find((u: { Id: string }) => u.Id === a.id).Rev).toBe(1);
    expect((await b.nextOfType('Joined')).Data.Id).toBe(a.id);
    expect(server.sessionCount).toBe(2);
  });

  it('drops the stale room entry of the resumed session when it joins elsewhere, without a Left', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    const b = await env.connect(server);
    await a.hello('old-room');
    await b.hello('old-room');
    const resumed = await env.connect(server, { token: a.self.Token });
    await a.closed;
    expect(server.rooms().get('Room:old-room')).toContain(a.id); // stale until the next Hello, like the real server
    await resumed.hello('new-room');
    expect(server.rooms().get('Room:old-room')).toEqual([b.id]);
    await settle(resumed, b);
    expect(b.drain().filter((fr) => fr.Data.Type === 'Left')).toEqual([]);
  });

  it('creates a new session silently for an invalid token', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    const tampered = `${a.self.Token.slice(0, 20)}${a.self.Token[20] === 'A' ? 'B' : 'A'}${a.self.Token.slice(21)}`;
    for (const token of ['garbage', tampered, 'MTIzfA==']) {
      const b = await env.connect(server, { token });
      expect(b.id).not.toBe(a.id);
    }
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe('keepalive', () => {
  it('drops a client that does not answer pings, with a hard Left; ponging clients stay', async () => {
    const server = await env.start({ pingIntervalMs: 40, pongTimeoutMs: 300 });
    const silent = await env.connect(server, { autoPong: false });
    const alive = await env.connect(server);
    await silent.hello('ping-room');
    await alive.hello('ping-room');
    expect((await silent.closed).code).toBe(1006);
    expect((await alive.nextOfType('Left')).Data).toEqual({ Type: 'Left', Id: silent.id, Status: 'hard' });
    await alive.sync();
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe('limits and hostile input', () => {
  it('closes with 1009 on a frame over 1 MiB', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    a.send('x'.repeat((1 << 20) + 1));
    expect((await a.closed).code).toBe(1009);
  });

  it('drops malformed JSON, unknown types and type mismatches without closing', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    const bad = [
      '{', 'null', '[]', '42', '"Hello"', '{"Type":5}', '{"Type":"Nope"}', '{"Type":"Hello","Hello":5}',
      '{"Type":"Hello","Hello":{"Name":7}}', '{"Type":"Chat","Chat":{"To":1}}', '{"Type":"Offer","Offer":[]}',
      '{"Type":"Status","Status":{"Status":"x"}}', '{"Type":"Self","Iid":3}', '\u0000\uffff',
    ];
    for (const frame of bad) a.send(frame);
    a.ws.send(Buffer.from([0xff, 0xfe, 0x00]), { binary: true });
    a.ws.send(Buffer.from([0xc3, 0x28]), { binary: false }); // invalid UTF-8 in a text frame
    await a.sync();
    expect(a.drain()).toEqual([]);
    expect(server.stats.framesDropped).toBeGreaterThanOrEqual(bad.length);
  });

  it('delays frames above 20 per second instead of dropping them', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    const replies = Array.from({ length: 30 }, (_, i) => a.next((fr) => fr.Data?.Alive === 1000 + i));
    for (let i = 0; i < 30; i++) a.send(f.alive(1000 + i));
    const frames = await Promise.all(replies);
    expect(frames).toHaveLength(30);
    expect(server.stats.rateLimitPauses).toBeGreaterThan(0);
  });

  it('drops outbound frames beyond the queue limit', async () => {
    // With a limit of 1, the echo and the "sent" status (queued in the same tick) cannot both fit.
    const server = await env.start({ outboundQueueLimit: 1 });
    const a = await env.connect(server);
    const b = await env.connect(server);
    a.send(f.chat(b.id, { Message: 'hi', Mid: 'm1' }));
    expect((await a.nextOfType('Chat')).Data.Chat).toMatchObject({ Message: 'hi', Time: '' });
    expect((await b.nextOfType('Chat')).Data.Chat.Message).toBe('hi');
    // The Alive reply itself may meet a full queue, so retry.
    await expect.poll(() => a.sync(500).then(() => true, () => false), { timeout: 10_000 }).toBe(true);
    expect(a.drain().filter((fr) => fr.Data.Type === 'Chat')).toEqual([]);
    expect(server.stats.framesOverflowed).toBeGreaterThan(0);
  });

  it('never lets __proto__ or constructor keys reach prototypes', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    const b = await env.connect(server);
    a.send(`{"Type":"Offer","Offer":{"To":"${b.id}","Type":"Offer","Offer":{"__proto__":{"polluted":1},"constructor":{"prototype":{"p":1}},"type":"offer","sdp":""}}}`);
    const offer = await b.nextOfType('Offer');
    expect(b.raw.at(-1)).toContain('"__proto__":{"polluted":1}');
    expect(offer.Data.Offer.type).toBe('offer');
    a.send('{"__proto__":{"Type":"Self"},"constructor":1}');
    a.send(`{"Type":"Status","Status":{"Type":"Status","Status":{"__proto__":{"x":1}}}}`);
    await a.sync();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('server close', () => {
  it('is idempotent and drops clients', async () => {
    const server = await env.start();
    const a = await TestClient.connect(server.url);
    await Promise.all([server.close(), server.close()]);
    expect((await a.closed).code).toBe(1006);
  });
});
