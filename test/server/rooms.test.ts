import { describe, expect, it } from 'vitest';
import { settle } from './client.js';
import { f, useServer } from './setup.js';

const env = useServer();

describe('Hello / Welcome', () => {
  it('welcomes with Room {Type:"Room",Name,Credentials:null} and Users including self; others get Joined', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    const b = await env.connect(server);
    const welcomeA = await a.hello('lobby');
    expect(welcomeA).toEqual({
      Data: { Type: 'Welcome', Room: { Type: 'Room', Name: 'lobby', Credentials: null }, Users: [{ Type: 'Online', Id: a.id, Ua: 'test-client', Rev: 1, Prio: 100 }] },
      From: a.id,
      Iid: welcomeA.Iid,
    });
    const welcomeB = await b.hello('lobby');
    expect(welcomeB.Data.Users.map((u: { Id: string }) => u.Id).sort()).toEqual([a.id, b.id].sort());
    const joined = await a.nextOfType('Joined');
    expect(joined.Data).toEqual({ Type: 'Joined', Id: b.id, Ua: 'test-client', Prio: 100 });
    expect(joined.From).toBe(b.id);
    expect(joined.A).toMatch(/^[A-Za-z0-9_=-]+$/);
    expect(Object.keys(joined)).toEqual(['Data', 'From', 'A']);
    expect(server.rooms().get('Room:lobby')?.sort()).toEqual([a.id, b.id].sort());
  });

  it('sends a soft Left to the old room on a room switch and re-broadcasts Joined on a re-Hello', async () => {
    const { a, b } = await env.joinedPair('one');
    await b.hello('one');
    expect((await a.nextOfType('Joined')).Data.Id).toBe(b.id);
    await b.hello('two');
    expect((await a.nextOfType('Left')).Data).toEqual({ Type: 'Left', Id: b.id, Status: 'soft' });
    b.send({ Type: 'Leave' });
    await settle(b, a);
    expect(a.drain()).toEqual([]);
    expect(b.drain()).toEqual([]); // Leave has no reply
  });

  it('Leave sends a soft Left and no reply; disconnect sends a hard Left', async () => {
    const server = await env.start();
    const [a, b, c] = [await env.connect(server), await env.connect(server), await env.connect(server)];
    for (const client of [a, b, c]) await client.hello('bye-room');
    b.send({ Type: 'Leave' });
    expect((await a.nextOfType('Left')).Data).toEqual({ Type: 'Left', Id: b.id, Status: 'soft' });
    c.close();
    expect((await a.nextOfType('Left')).Data).toEqual({ Type: 'Left', Id: c.id, Status: 'hard' });
    await b.sync();
    expect(b.drain().filter((fr) => fr.Data.Type === 'Left')).toEqual([]);
  });

  it('enforces PINs: creation with a PIN, authorization_required, invalid_credentials, authorization_not_required', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    const b = await env.connect(server);
    expect((await a.hello('vault', { Credentials: { PIN: '1234' } })).Data.Type).toBe('Welcome');
    expect((await b.hello('vault')).Data).toMatchObject({ Type: 'Error', Code: 'authorization_required' });
    expect((await b.hello('vault', { Credentials: { PIN: '9999' } })).Data).toMatchObject({ Type: 'Error', Code: 'invalid_credentials' });
    expect((await b.hello('vault', { Credentials: { PIN: '12345' } })).Data).toMatchObject({ Code: 'invalid_credentials' });
    // Creating with an empty PIN creates an open room and fails; a PIN for an open room fails too.
    expect((await b.hello('open', { Credentials: { PIN: '' } })).Data).toMatchObject({ Code: 'authorization_not_required' });
    expect((await b.hello('open', { Credentials: { PIN: '1' } })).Data).toMatchObject({ Code: 'authorization_not_required' });
    expect((await b.hello('open', { Credentials: null })).Data.Type).toBe('Welcome');
    expect((await b.hello('vault', { Credentials: { pin: '1234' } })).Data.Type).toBe('Welcome');
    // Not in a room after a failed Hello: Users says not_in_room.
    const c = await env.connect(server);
    await c.hello('vault');
    expect((await c.request({ Type: 'Users' })).Data).toMatchObject({ Code: 'not_in_room' });
  });

  it('refuses the default room when disabled', async () => {
    const server = await env.start({ defaultRoomEnabled: false });
    const a = await env.connect(server);
    expect((await a.hello('')).Data).toMatchObject({ Type: 'Error', Code: 'default_room_disabled' });
    expect((await a.hello('named')).Data.Type).toBe('Welcome');
  });

  it('forgets an empty room and its PIN after emptyRoomTtlMs', async () => {
    const server = await env.start({ emptyRoomTtlMs: 50 });
    const a = await env.connect(server);
    await a.hello('ephemeral', { Credentials: { PIN: 'p' } });
    a.send({ Type: 'Leave' });
    await a.sync();
    await expect.poll(() => server.rooms().has('Room:ephemeral'), { timeout: 5000, interval: 20 }).toBe(false);
    expect((await a.hello('ephemeral')).Data.Type).toBe('Welcome');
  });
});

describe('Room document', () => {
  it('sets and removes a PIN, replies with Credentials as sent and broadcasts to the others', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    const b = await env.connect(server);
    await a.hello('pinned');
    await b.hello('pinned');
    const set = await a.request({ Type: 'Room', Room: { Name: 'pinned', Type: '', Credentials: { PIN: '42' } } });
    expect(set).toEqual({ Data: { Type: 'Room', Name: 'pinned', Credentials: { PIN: '42' } }, From: a.id, Iid: set.Iid });
    const update = await b.next((fr) => fr.Data.Type === 'Room');
    expect(update.Data).toEqual({ Type: 'Room', Name: 'pinned', Credentials: { PIN: '42' } });
    expect(update.From).toBe(a.id);
    expect(update.A).toBeTruthy();
    const c = await env.connect(server);
    expect((await c.hello('pinned')).Data).toMatchObject({ Code: 'authorization_required' });
    const unchanged = await a.request({ Type: 'Room', Room: { Name: 'pinned' } });
    expect(unchanged.Data).toEqual({ Type: 'Room', Name: 'pinned', Credentials: null });
    expect((await c.hello('pinned')).Data).toMatchObject({ Code: 'authorization_required' });
    await a.request({ Type: 'Room', Room: { Name: 'pinned', Credentials: { PIN: '' } } });
    expect((await c.hello('pinned')).Data.Type).toBe('Welcome');
  });

  it('answers not_in_room for other rooms, a changed type, or when not joined', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    expect((await a.request({ Type: 'Room', Room: { Name: 'x' } })).Data).toMatchObject({ Code: 'not_in_room' });
    await a.hello('x');
    expect((await a.request({ Type: 'Room', Room: { Name: 'y' } })).Data).toMatchObject({ Code: 'not_in_room' });
    expect((await a.request({ Type: 'Room', Room: { Name: 'x', Type: 'Conference' } })).Data).toMatchObject({ Code: 'not_in_room' });
    expect((await a.request({ Type: 'Room', Room: { Name: 'x', Type: 'Room' } })).Data.Type).toBe('Room');
  });
});

describe('Users and Status', () => {
  it('lists users with Rev and Status; not_in_room before joining', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    expect((await a.request({ Type: 'Users' })).Data).toEqual({ Type: 'Error', Code: 'not_in_room', Message: 'Cannot list users without a current room' });
    a.send(f.status({ displayName: 'Alice', message: null, buddyPicture: null }));
    await a.hello('users-room');
    const users = await a.request({ Type: 'Users', Users: { Type: 'Users', Users: {} } });
    expect(users.Data).toEqual({
      Type: 'Users',
      Users: [{ Type: 'Online', Id: a.id, Ua: 'test-client', Rev: 2, Prio: 100, Status: { buddyPicture: null, displayName: 'Alice', message: null } }],
    });
    // Status keys come out sorted like a Go map.
    expect(a.raw.at(-1)).toContain('"Status":{"buddyPicture":null,"displayName":"Alice","message":null}');
  });

  it('embeds an earlier Status in Joined, broadcasts later ones to the others only, drops them outside a room', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    const b = await env.connect(server);
    await a.hello('status-room');
    b.send(f.status({ displayName: 'Bob' }));
    await b.hello('status-room');
    expect((await a.nextOfType('Joined')).Data).toEqual({ Type: 'Joined', Id: b.id, Ua: 'test-client', Prio: 100, Status: { displayName: 'Bob' } });
    b.send(f.status({ displayName: 'Bobby' }));
    const status = await a.nextOfType('Status');
    expect(status.Data).toEqual({ Type: 'Status', Id: b.id, Rev: 3, Prio: 100, Status: { displayName: 'Bobby' } });
    expect(status.From).toBe(b.id);
    await settle(b, b);
    expect(b.drain()).toEqual([]); // not echoed
    b.send({ Type: 'Leave' });
    await a.nextOfType('Left');
    b.send(f.status({ displayName: 'stale' }));
    await settle(b, a);
    expect(a.drain()).toEqual([]);
  });
});

describe('Conference-type rooms', () => {
  it('broadcasts the server Conference doc to all members after each Hello with ≥2 sessions', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    const b = await env.connect(server);
    const welcome = await a.hello('conference/team');
    expect(welcome.Data.Room).toEqual({ Type: 'Conference', Name: 'conference/team', Credentials: null });
    await a.sync();
    expect(a.drain()).toEqual([]); // alone: no Conference doc
    await b.hello('conference/team');
    const expected = (ids: string[]) => ({
      Data: { Id: 'Conference:conference/team', Type: 'Conference', Conference: ids },
      To: 'Conference:conference/team',
    });
    const toA = await a.next((fr) => fr.Data.Type === 'Conference');
    const toB = await b.next((fr) => fr.Data.Type === 'Conference');
    expect(toA).toEqual(expected([a.id, b.id]));
    expect(toB).toEqual(expected([a.id, b.id]));
    expect(a.raw.at(-1)).toMatch(/^\{"Data":\{"Id":"Conference:conference\/team","Type":"Conference","Conference":\[/);
    // Client Conference docs are refused in server-managed rooms.
    a.send(f.conference('x', [a.id, b.id]));
    await settle(a, b);
    expect(b.drain()).toEqual([]);
    // A Room update re-sends the Conference doc; its Room doc has Type "Conference".
    const room = await a.request({ Type: 'Room', Room: { Name: 'conference/team' } });
    expect(room.Data).toEqual({ Type: 'Conference', Name: 'conference/team', Credentials: null });
    expect(await a.next((fr) => Array.isArray(fr.Data.Conference))).toEqual(expected([a.id, b.id]));
  });

  it('makes a Conference room from a non-empty Hello.Type', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    const b = await env.connect(server);
    await a.hello('plain', { Type: 'Conference' });
    const other = await env.connect(server);
    await other.hello('plain');
    await b.hello('plain', { Type: 'Conference' });
    expect((await a.next((fr) => fr.Data.Type === 'Conference')).To).toBe('Conference:plain');
    expect([...server.rooms().keys()].sort()).toEqual(['Conference:plain', 'Room:plain']);
  });
});
