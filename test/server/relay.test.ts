import { describe, expect, it } from 'vitest';
import { settle } from './client.js';
import { f, useServer } from './setup.js';

const env = useServer();

async function trio() {
  const server = await env.start();
  const [a, b, c] = [await env.connect(server), await env.connect(server), await env.connect(server)];
  for (const client of [a, b, c]) await client.hello('relay-room');
  await settle(c, a, b, c);
  for (const client of [a, b, c]) client.drain();
  return { server, a, b, c };
}

describe('Offer / Answer / Candidate / Bye', () => {
  it('relays each only to To, verbatim, with sorted opaque maps and escaped <>&', async () => {
    const { a, b, c } = await trio();
    a.send(f.offer(b.id, { _token: 't<1>', _id: 0 }));
    const offer = await b.nextOfType('Offer');
    expect(offer).toEqual({
      Data: { Type: 'Offer', To: b.id, Offer: { type: 'offer', sdp: 'v=0\r\n', _token: 't<1>', _id: 0 } },
      From: a.id,
      To: b.id,
      A: offer.A,
    });
    expect(b.raw.at(-1)).toContain('"Offer":{"_id":0,"_token":"t\\u003c1\\u003e","sdp":"v=0\\r\\n","type":"offer"}');
    b.send(f.answer(a.id));
    expect((await a.nextOfType('Answer')).Data).toEqual({ Type: 'Answer', To: a.id, Answer: { type: 'answer', sdp: 'v=0\r\n' } });
    a.send(f.candidate(b.id));
    expect((await b.nextOfType('Candidate')).Data.Candidate).toMatchObject({ sdpMLineIndex: 0, sdpMid: '0' });
    a.send(f.bye(b.id, { Reason: 'busy' }));
    expect((await b.nextOfType('Bye')).Data).toEqual({ Type: 'Bye', To: b.id, Bye: { Reason: 'busy' } });
    a.send(f.bye(b.id, null));
    expect((await b.nextOfType('Bye')).Data).toEqual({ Type: 'Bye', To: b.id, Bye: null });
    await settle(a, c, a);
    expect(c.drain()).toEqual([]);
    expect(a.drain()).toEqual([]);
  });

  it('drops unknown or empty To silently, even with an Iid', async () => {
    const { a } = await trio();
    a.send({ ...f.offer('nobody'), Iid: '1' });
    a.send({ ...f.bye(''), Iid: '2' });
    a.send({ Type: 'Offer', Offer: { To: 'x', Type: 'Offer' } }); // no SDP map
    await a.sync();
    expect(a.drain()).toEqual([]);
  });

  it('keeps the inner Type as sent (the server never checks it)', async () => {
    const { a, b } = await trio();
    a.send({ Type: 'Offer', Offer: { To: b.id, Offer: { type: 'offer', sdp: '' } } });
    expect((await b.next((fr) => fr.Data.Offer !== undefined)).Data.Type).toBe('');
  });
});

describe('Chat', () => {
  it('echoes to the sender with Time "" unless NoEcho, and relays with an RFC 3339 Time', async () => {
    const { a, b } = await trio();
    a.send(f.chat(b.id, { Message: 'hello <b>' }));
    const echo = await a.nextOfType('Chat');
    expect(echo).toEqual({
      Data: { To: b.id, Type: 'Chat', Chat: { Message: 'hello <b>', Time: '', Status: null } },
      From: a.id,
      To: a.id,
      A: echo.A,
    });
    const relayed = await b.nextOfType('Chat');
    expect(relayed.Data.Chat.Time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    expect(relayed.Data).toEqual({ To: b.id, Type: 'Chat', Chat: { Message: 'hello <b>', Time: relayed.Data.Chat.Time, Status: null } });
    expect(b.raw.at(-1)).toContain('"Message":"hello \\u003cb\\u003e"');
    a.send(f.chat(b.id, { Message: 'quiet', NoEcho: true }));
    expect((await b.nextOfType('Chat')).Data.Chat).toMatchObject({ Message: 'quiet', NoEcho: true });
    await a.sync();
    expect(a.drain()).toEqual([]);
  });

  it('sends a "sent" status for unicasts with a Mid, even to unknown targets, not for broadcasts', async () => {
    const { a, b, c } = await trio();
    a.send(f.chat(b.id, { Mid: 'm1', Message: 'private', NoEcho: true }));
    const sent = await a.nextOfType('Chat');
    expect(sent).toEqual({
      Data: { To: b.id, Type: 'Chat', Chat: { Message: '', Time: '', Mid: 'm1', Status: { State: 'sent' } } },
      From: a.id,
      To: a.id,
      A: sent.A,
    });
    expect((await b.nextOfType('Chat')).Data.Chat).toMatchObject({ Mid: 'm1', Message: 'private', NoEcho: true, Status: null });
    a.send(f.chat('ghost', { Mid: 'm2', Message: 'nobody', NoEcho: true }));
    expect((await a.nextOfType('Chat')).Data).toMatchObject({ To: 'ghost', Chat: { Mid: 'm2', Status: { State: 'sent' } } });
    a.send(f.chat('', { Mid: 'm3', Message: 'all', NoEcho: true }));
    expect((await b.nextOfType('Chat')).Data).toMatchObject({ To: '', Chat: { Message: 'all', Mid: 'm3' } });
    expect((await c.nextOfType('Chat')).Data.To).toBe('');
    await settle(a, a);
    expect(a.drain()).toEqual([]); // broadcast: no echo (NoEcho), no sent status, not to the sender
  });

  it('broadcasts only when joined; unicasts work without a room', async () => {
    const { server, a } = await trio();
    const loner = await env.connect(server);
    loner.send(f.chat('', { Message: 'anyone?', NoEcho: true }));
    loner.send(f.chat(a.id, { Message: 'psst', NoEcho: true }));
    expect((await a.nextOfType('Chat')).Data.Chat.Message).toBe('psst');
    await settle(loner, a);
    expect(a.drain()).toEqual([]);
  });

  it('normalises Chat: known Status sub-keys only, empty ones omitted, Message always present', async () => {
    const { a, b } = await trio();
    a.send(
      f.chat(b.id, {
        Message: null,
        NoEcho: true,
        Mid: null,
        Status: {
          Typing: 'start',
          Bogus: 'x',
          SeenMids: [],
          FileInfo: { id: 'f', chunks: 2, name: 'n', size: 10, type: 'a/b', extra: 1 },
          Geolocation: { latitude: 1.5, longitude: 0, accuracy: null },
        },
      }),
    );
    const chat = await b.nextOfType('Chat');
    expect(chat.Data.Chat).toEqual({
      Message: '',
      Time: chat.Data.Chat.Time,
      NoEcho: true,
      Status: { Typing: 'start', FileInfo: { id: 'f', chunks: 2, name: 'n', size: 10, type: 'a/b' }, Geolocation: { latitude: 1.5 } },
    });
    expect(b.raw.at(-1)).toContain('"Chat":{"Message":"","Time":');
  });

  it('drops contact requests (no user accounts) after the echo', async () => {
    const { a, b } = await trio();
    a.send(f.chat(b.id, { Message: 'Contact request', Mid: 'm', Status: { ContactRequest: { Id: 'abc' } } }));
    expect((await a.nextOfType('Chat')).Data.Chat.Time).toBe(''); // the echo
    await settle(a, a, b);
    expect(a.drain()).toEqual([]);
    expect(b.drain()).toEqual([]);
  });
});

describe('Conference (client)', () => {
  it('forwards to the listed ids except the sender; refuses lists over 100 ids', async () => {
    const { a, b, c } = await trio();
    a.send(f.conference('conf-1', [a.id, b.id, c.id, 'offline']));
    const toB = await b.nextOfType('Conference');
    expect(toB).toEqual({ Data: { Id: 'conf-1', Type: 'Conference', Conference: [a.id, b.id, c.id, 'offline'] }, From: a.id, To: b.id, A: toB.A });
    expect((await c.nextOfType('Conference')).To).toBe(c.id);
    const many = Array.from({ length: 101 }, (_, i) => (i === 0 ? b.id : `x${i}`));
    a.send(f.conference('conf-2', many));
    await settle(a, a, b);
    expect(a.drain()).toEqual([]);
    expect(b.drain()).toEqual([]);
  });
});

describe('Alive', () => {
  it('echoes the object form and drops the number form', async () => {
    const { a } = await trio();
    a.send({ Type: 'Alive', Alive: 123 });
    a.send({ Type: 'Alive', Alive: { Type: 'Alive', Alive: -1 } });
    a.send({ Type: 'Alive', Alive: { Type: 'Alive', Alive: 1.5 } });
    a.send(f.alive(1491000000000));
    const reply = await a.nextOfType('Alive');
    expect(reply).toEqual({ Data: { Type: 'Alive', Alive: 1491000000000 }, From: a.id });
    expect(a.raw.at(-1)).toBe(`{"Data":{"Type":"Alive","Alive":1491000000000},"From":"${a.id}"}\n`);
    await a.sync();
    expect(a.drain()).toEqual([]);
  });
});

describe('key handling', () => {
  it('matches field names case-insensitively, values case-sensitively', async () => {
    const { a, b } = await trio();
    a.send({ type: 'Offer', offer: { to: b.id, TYPE: 'Offer', oFFer: { type: 'offer', sdp: 'x' } } });
    expect((await b.nextOfType('Offer')).Data).toEqual({ Type: 'Offer', To: b.id, Offer: { type: 'offer', sdp: 'x' } });
    const welcome = await a.request({ TYPE: 'Hello', hello: { ua: 'lower', name: 'relay-room', type: '' } });
    expect(welcome.Data.Type).toBe('Welcome');
    a.send({ Type: 'offer', Offer: { To: b.id, Type: 'Offer', Offer: { type: 'offer', sdp: 'x' } } });
    a.send({ Type: 'alive', Alive: { Type: 'Alive', Alive: 1 } });
    await settle(a, a, b);
    expect(a.drain()).toEqual([]);
    expect(b.drain().filter((fr) => fr.Data.Type !== 'Joined')).toEqual([]);
  });
});

describe('Sessions', () => {
  it('resolves a fresh A to its session, rejects bad ones', async () => {
    const { a, b } = await trio();
    b.send(f.status({ displayName: 'Bob' }));
    const status = await a.nextOfType('Status');
    const query = (type: string, token: string) => ({ Type: 'Sessions', Sessions: { Type: 'Sessions', Sessions: { Type: type, Token: token } } });
    const found = await a.request(query('session', status.A!));
    expect(found.Data).toEqual({
      Type: 'Sessions',
      Sessions: { Token: status.A, Type: 'session' },
      Users: [{ Type: '', Id: b.id, Ua: 'test-client', Rev: 2, Prio: 100, Status: { displayName: 'Bob' } }],
    });
    expect((await a.request(query('session', 'garbage'))).Data).toMatchObject({ Type: 'Error', Code: 'bad_attestation' });
    expect((await a.request(query('session', `${status.A!.slice(0, -8)}AAAAAAA=`))).Data).toMatchObject({ Code: 'bad_attestation' });
    expect((await a.request(query('other', 'x'))).Data).toMatchObject({ Code: 'bad_request' });
    b.close();
    await a.nextOfType('Left');
    expect((await a.request(query('session', status.A!))).Data).toMatchObject({ Code: 'no_such_session' });
  });

  it('answers a contact lookup with an undecodable token like the real server: empty Data, the Iid, no Error', async () => {
    const { a } = await trio();
    for (const token of ['x', '', 'MTIzNDU2Nzg5MHxhYmNkZWY=']) {
      a.send({ Type: 'Sessions', Sessions: { Type: 'Sessions', Sessions: { Type: 'contact', Token: token } }, Iid: `c-${token}` });
      const reply = await a.next((fr) => fr.Iid === `c-${token}`);
      expect(reply).toEqual({ Data: {}, From: a.id, Iid: `c-${token}` });
    }
    await settle(a, a);
    expect(a.drain()).toEqual([]);
  });
});
