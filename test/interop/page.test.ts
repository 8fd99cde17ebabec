import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noChromium } from '../helpers/env.js';
import { useBrowser } from '../helpers/browser.js';
import { startServer, type ChannelingServer } from '../../src/server/index.js';

describe.skipIf(noChromium).sequential('fixture page ↔ fixture page through the embedded server', () => {
  const browser = useBrowser();
  let server: ChannelingServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('two pages call each other and media flows both ways', async () => {
    const room = `smoke-${Date.now()}`;
    const alice = await browser().openPage(server.url, { name: 'Alice' });
    const bob = await browser().openPage(server.url, { name: 'Bob' });
    await alice.t.join(room);
    await bob.t.join(room);
    await alice.t.call(bob.id);
    await expect.poll(async () => (await alice.t.state()).calls[0]?.state, { timeout: 20_000 }).toBe('connected');
    await expect.poll(async () => (await bob.t.state()).calls[0]?.state, { timeout: 20_000 }).toBe('connected');
    await expect
      .poll(async () => {
        const s = await bob.t.remoteStats(alice.id);
        return (s.audio?.bytes ?? 0) > 5000 && (s.video?.frames ?? 0) > 10;
      }, { timeout: 20_000, interval: 500 })
      .toBe(true);
    const a = await alice.t.remoteStats(bob.id);
    expect(a.audio?.codec).toBe('audio/opus');
    expect(a.video?.codec).toBe('video/VP8');
    expect(a.video?.frameWidth).toBeGreaterThan(0);
    // Talking over the call channel arrives at the peer.
    await alice.t.setTalking(true);
    await expect.poll(async () => (await bob.t.state()).calls[0]?.remoteTalking, { timeout: 5000 }).toBe(true);
    await alice.t.hangup(bob.id);
    await expect.poll(async () => (await bob.t.state()).calls[0]?.byeReceived, { timeout: 5000 }).toBe('');
    const sentOffer = (await alice.t.sent('Offer'))[0] as { Offer: { To: string; Type: string; Offer: Record<string, unknown> } };
    expect(Object.keys(sentOffer.Offer.Offer)).toEqual(['sdp', 'type']);
    // Like the WC on Chrome, the sent SDP lost its first rtx rtpmap: a video PT without rtpmap.
    const sdp = String(sentOffer.Offer.Offer.sdp);
    const videoPts = /m=video \d+ \S+ ([\d ]+)/.exec(sdp)![1]!.split(' ');
    expect(videoPts.filter((pt) => !sdp.includes(`a=rtpmap:${pt} `)).length).toBe(1);
    expect(sentOffer.Offer.Type).toBe('Offer');
  });
  it('a rejected call ends with Bye reject at the caller', async () => {
    const room = `smoke-reject-${Date.now()}`;
    const alice = await browser().openPage(server.url, { name: 'Alice' });
    const bob = await browser().openPage(server.url, { name: 'Bob', answer: 'reject' });
    await alice.t.join(room);
    await bob.t.join(room);
    await alice.t.call(bob.id);
    await expect.poll(async () => (await alice.t.state()).calls[0]?.byeReceived, { timeout: 10_000 }).toBe('reject');
    expect((await bob.t.sent('Bye'))[0]).toEqual({ Type: 'Bye', Bye: { To: alice.id, Type: 'Bye', Bye: { Reason: 'reject' } } });
  });

  it('one page downloads a file the other shares, byte-identical, over several token connections', async () => {
    const room = `smoke-file-${Date.now()}`;
    const alice = await browser().openPage(server.url, { name: 'Alice' });
    const bob = await browser().openPage(server.url, { name: 'Bob' });
    await alice.t.join(room);
    await bob.t.join(room);
    const shared = await alice.t.shareRandomFile('big.bin', 250 * 60_000 + 7);
    await expect.poll(async () => (await bob.t.fileInfos()).length, { timeout: 5000 }).toBe(1);
    const [{ from, info }] = await bob.t.fileInfos();
    expect(from).toBe(alice.id);
    expect(info).toEqual(shared.info);
    expect(info.id).toMatch(/^[0-9a-f]{96}$/);
    alice.t.corruptNextChunk(1);
    const got = await bob.t.download(alice.id, info);
    expect(got.sha256).toBe(shared.sha256);
    expect(got.size).toBe(info.size);
    expect(got.chunkSize).toBe(60_000);
    expect(got.crcErrors).toBe(1);
    const stats = await alice.t.fileStats(info.id);
    expect(stats?.corrupted.length).toBe(1);
    await expect.poll(async () => (await alice.t.fileStats(info.id))?.byes, { timeout: 5000 }).toBe(got.connections);
  });

  it('three pages in a Conference room connect to each other', async () => {
    const room = `conference/smoke-${Date.now()}`;
    const pages = [];
    for (const name of ['A', 'B', 'C']) {
      const p = await browser().openPage(server.url, { name });
      await p.t.join(room);
      pages.push(p);
    }
    for (const p of pages) {
      await expect
        .poll(async () => (await p.t.state()).calls.filter((c) => c.state === 'connected').length, { timeout: 30_000, interval: 500 })
        .toBe(2);
    }
    const ids = pages.map((p) => p.id).sort();
    const lowest = pages.find((p) => p.id === ids[0])!;
    const offers = (await lowest.t.sent('Offer')) as { Offer: { Offer: { _conference?: string } } }[];
    expect(offers).toHaveLength(2);
    for (const o of offers) expect(o.Offer.Offer._conference).toBe(`Conference:${room}`);
  });

  it('the page sends the frame shapes of PROTOCOL-NOTES §13, key order included', async () => {
    const room = `smoke-shapes-${Date.now()}`;
    const alice = await browser().openPage(server.url, { name: 'Alice' });
    const bob = await browser().openPage(server.url, { name: 'Bob' });
    await alice.t.join(room);
    await bob.t.join(room);
    await alice.t.chat('', 'hello room');
    await bob.t.chat(alice.id, 'private word', 'server');
    await alice.t.shareFile('shared.bin', Buffer.from('abc').toString('base64'));
    await alice.t.call(bob.id);
    await expect.poll(async () => (await bob.t.state()).calls[0]?.state, { timeout: 20_000 }).toBe('connected');
    // Hang up only once the caller is connected too: a caller still dialing sends `abort` (§3.4).
    await expect.poll(async () => (await alice.t.state()).calls[0]?.state, { timeout: 20_000 }).toBe('connected');
    await alice.t.hangup(bob.id);
    await expect.poll(async () => (await alice.t.sent('Status')).length, { timeout: 5000 }).toBe(1);
    // Idle for > 5 s: one Alive in object form.
    await expect.poll(async () => (await alice.t.sent('Alive')).length, { timeout: 10_000, interval: 500 }).toBeGreaterThan(0);

    const shape = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(shape) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)])) : typeof v;
    const keys = (v: unknown): unknown =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v).map(([k, x]) => (x && typeof x === 'object' && !Array.isArray(x) ? [k, keys(x)] : k)) : [];
    const a = async (type: string) => (await alice.t.sent(type)) as Record<string, unknown>[];
    const b = async (type: string) => (await bob.t.sent(type)) as Record<string, unknown>[];
    expect(keys((await a('Hello'))[0])).toEqual(['Type', ['Hello', ['Version', 'Ua', 'Name', 'Type']], 'Iid']);
    expect((await a('Hello'))[0]).toMatchObject({ Iid: '0', Hello: { Type: '', Ua: expect.stringMatching(/^Chrome \d+$/) } });
    expect((await a('Status'))[0]).toEqual({ Type: 'Status', Status: { Type: 'Status', Status: { displayName: 'Alice', buddyPicture: null, message: null } } });
    const aliceChats = await a('Chat');
    const groupChat = aliceChats.find((f) => JSON.stringify(f).includes('hello room'))!;
    const fileChat = aliceChats.find((f) => JSON.stringify(f).includes('FileInfo'))!;
    expect(keys(groupChat)).toEqual(['Type', ['Chat', ['To', 'Type', ['Chat', ['Mid', 'Message', 'NoEcho']]]]]);
    expect(keys(fileChat)).toEqual(['Type', ['Chat', ['To', 'Type', ['Chat', ['Mid', 'Message', ['Status', [['FileInfo', ['id', 'chunks', 'size', 'name', 'type']]]], 'NoEcho']]]]]);
    const [privateChat] = await b('Chat');
    expect(shape(privateChat)).toEqual({ Type: 'string', Chat: { To: 'string', Type: 'string', Chat: { Mid: 'string', Message: 'string', NoEcho: 'boolean' } } });
    // Alice acked Bob's private message: Mid and Message null, the Mid inside Status only.
    const ack = (await a('Chat')).find((f) => JSON.stringify(f).includes('delivered'))!;
    expect(keys(ack)).toEqual(['Type', ['Chat', ['To', 'Type', ['Chat', ['Mid', 'Message', ['Status', ['State', 'Mid']], 'NoEcho']]]]]);
    expect(ack).toMatchObject({ Chat: { To: bob.id, Chat: { Mid: null, Message: null, NoEcho: true } } });
    expect(keys((await a('Offer'))[0])).toEqual(['Type', ['Offer', ['To', 'Type', ['Offer', ['sdp', 'type']]]]]);
    expect(keys((await b('Answer'))[0])).toEqual(['Type', ['Answer', ['To', 'Type', ['Answer', ['sdp', 'type']]]]]);
    expect(keys((await a('Candidate'))[0])).toEqual(['Type', ['Candidate', ['To', 'Type', ['Candidate', ['type', 'sdpMLineIndex', 'sdpMid', 'candidate']]]]]);
    expect((await a('Bye'))[0]).toEqual({ Type: 'Bye', Bye: { To: bob.id, Type: 'Bye', Bye: {} } });
    expect(shape((await a('Alive'))[0])).toEqual({ Type: 'string', Alive: { Type: 'string', Alive: 'number' } });
  });
});
