import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { firstValueFrom, filter, take, toArray, timeout } from 'rxjs';
import { startServer, type ChannelingServer } from '../../src/server/index.js';
import { answerPolicy, type Call, type RemoteTrack } from '../../src/peer/index.js';
import type { Received } from '../../src/protocol/index.js';
import { noChromium } from '../helpers/env.js';
import { useBrowser } from '../helpers/browser.js';
import { channelText, startBot, type TestBot } from './bot.js';
import { startBotAudio, type BotAudio } from './bot-audio.js';

/** Counts RTP packets per kind on the bot's remote tracks. */
function countRtp(tracks: RemoteTrack[]): { audio: number; video: number; keyframes: number } {
  const counts = { audio: 0, video: 0, keyframes: 0 };
  for (const t of tracks) {
    t.rtp$.subscribe((p) => {
      counts[t.kind]++;
      // VP8 payload descriptor: S bit + PID 0, then the P bit of the payload header (0 = keyframe).
      if (t.kind === 'video' && p.payload.length > 4) {
        const x = (p.payload[0]! & 0x80) !== 0;
        const s = (p.payload[0]! & 0x10) !== 0;
        let off = 1;
        if (x) {
          const ext = p.payload[1]!;
          off = 2 + ((ext & 0x80) ? ((p.payload[2]! & 0x80) ? 2 : 1) : 0) + ((ext & 0x40) ? 1 : 0) + ((ext & 0x30) ? 1 : 0);
        }
        if (s && (p.payload[0]! & 0x07) === 0 && (p.payload[off]! & 0x01) === 0) counts.keyframes++;
      }
    });
  }
  return counts;
}

describe.skipIf(noChromium).sequential('interop: 1:1 calls between Chromium and the bot', () => {
  const browser = useBrowser();
  let server: ChannelingServer;
  let audio: BotAudio;
  const bots: TestBot[] = [];
  const newBot = async (room: string, opts: Parameters<typeof startBot>[2] = {}) => {
    const bot = await startBot(server.url, room, { media: { audio: 'sendrecv', video: 'recvonly', audioTrack: audio.track }, ...opts });
    bots.push(bot);
    return bot;
  };
  let n = 0;
  const room = () => `interop-calls-${Date.now()}-${++n}`;

  beforeAll(async () => {
    server = await startServer();
    audio = await startBotAudio();
  });
  afterEach(async () => {
    await Promise.all(bots.splice(0).map((b) => b.close()));
  });
  afterAll(async () => {
    await audio?.close();
    await server?.close();
  });

  it('Chromium calls the bot, the bot auto-answers, media flows both ways', async () => {
    const r = room();
    const bot = await newBot(r, { answer: answerPolicy({ kind: 'everyone' }) });
    const page = await browser().openPage(server.url, { name: 'Caller' });
    await page.t.join(r);
    const incoming = firstValueFrom(bot.calls.calls$.pipe(take(1)));
    await page.t.call(bot.id);
    const call: Call = await incoming;
    expect(call.direction).toBe('incoming');
    expect(call.peerId).toBe(page.id);
    await call.waitFor('connected', 20_000);
    const tracks = await firstValueFrom(call.tracks$.pipe(take(2), toArray(), timeout(15_000)));
    expect(tracks.map((t) => `${t.kind} ${t.codec.mimeType}`).sort()).toEqual(['audio audio/opus', 'video video/VP8']);
    const counts = countRtp(tracks);
    await tracks.find((t) => t.kind === 'video')!.requestKeyframe();
    await expect.poll(() => counts.audio > 50 && counts.video > 20 && counts.keyframes > 0, { timeout: 15_000 }).toBe(true);
    // The page receives the bot's audio (Opus), and its data channel is open.
    await expect
      .poll(async () => ((await page.t.remoteStats(bot.id)).audio?.packets ?? 0) > 50, { timeout: 15_000, interval: 500 })
      .toBe(true);
    const inbound = await page.t.remoteStats(bot.id);
    expect(inbound.audio?.codec).toBe('audio/opus');
    if (audio.source === 'tone') expect(inbound.audio?.totalAudioEnergy ?? 0).toBeGreaterThan(0);
    expect((await page.t.state()).calls[0]).toMatchObject({ state: 'connected', dc: 'open' });
    // Talking from the page's data channel arrives at the bot; the bot's arrives at the page.
    const talking = firstValueFrom(call.documents$.pipe(filter((d) => d.kind === 'Talking'), timeout(5000)));
    await page.t.setTalking(true);
    expect((await talking).doc).toMatchObject({ Type: 'Talking', Talking: true });
    call.sendTalking(true);
    await expect.poll(async () => (await page.t.state()).calls[0]?.remoteTalking, { timeout: 5000 }).toBe(true);
    // Plain hangup from the page: the bot sees a Bye without reason.
    const closed = call.closed();
    await page.t.hangup(bot.id);
    expect(await closed).toMatchObject({ status: 'closed', reason: 'hangup', by: 'remote' });
  });

  it('the bot calls Chromium and the page answers', async () => {
    const r = room();
    const bot = await newBot(r);
    // The page rings for a second while the bot's candidates arrive: it must queue them.
    const page = await browser().openPage(server.url, { name: 'Callee', answerDelayMs: 1000 });
    await page.t.join(r);
    const call = bot.calls.call(page.id);
    await call.waitFor('connected', 20_000);
    const tracks = await firstValueFrom(call.tracks$.pipe(take(2), toArray(), timeout(15_000)));
    const counts = countRtp(tracks);
    await expect.poll(() => counts.audio > 50 && counts.video > 20, { timeout: 15_000 }).toBe(true);
    await expect.poll(async () => (await page.t.state()).calls[0]?.state, { timeout: 10_000 }).toBe('connected');
    const state = (await page.t.state()).calls[0]!;
    expect(state).toMatchObject({ direction: 'in', dc: 'open' });
    await expect
      .poll(async () => ((await page.t.remoteStats(bot.id)).audio?.packets ?? 0) > 50, { timeout: 15_000, interval: 500 })
      .toBe(true);
    // The bot's Offer carries the WC shape; its "default" channel was created before the Offer.
    const offer = (await page.t.received('Offer'))[0]!;
    expect(offer).toMatchObject({ From: bot.id, To: page.id, Data: { Type: 'Offer', To: page.id, Offer: { type: 'offer' } } });
    call.hangup();
    await expect.poll(async () => (await page.t.state()).calls[0]?.byeReceived, { timeout: 5000 }).toBe('');
  });

  it("the bot answers after ringing: the page's early candidates are kept until the Offer is applied", async () => {
    const r = room();
    const bot = await newBot(r, { answer: () => new Promise((resolve) => setTimeout(() => resolve('accept'), 1500)) });
    const page = await browser().openPage(server.url, { name: 'EarlyCandidates' });
    await page.t.join(r);
    const incoming = firstValueFrom(bot.calls.calls$.pipe(take(1)));
    await page.t.call(bot.id);
    const call = await incoming;
    // All of the page's candidates were sent before the bot accepted.
    await expect.poll(async () => (await page.t.sent('Candidate')).length, { timeout: 5000 }).toBeGreaterThan(0);
    expect(call.state.status).toBe('ringing');
    await call.waitFor('connected', 20_000);
    await expect.poll(async () => (await page.t.state()).calls[0]?.state, { timeout: 10_000 }).toBe('connected');
  });

  it('the page calls the bot while the bot is in another call: busy', async () => {
    const r = room();
    const bot = await newBot(r, { answer: answerPolicy({ kind: 'everyone', busyWhenInCall: true }) });
    const first = await browser().openPage(server.url, { name: 'First' });
    const second = await browser().openPage(server.url, { name: 'Second' });
    await first.t.join(r);
    await second.t.join(r);
    await first.t.call(bot.id);
    await expect.poll(async () => (await first.t.state()).calls[0]?.state, { timeout: 20_000 }).toBe('connected');
    await second.t.call(bot.id);
    await expect.poll(async () => (await second.t.state()).calls[0]?.byeReceived, { timeout: 10_000 }).toBe('busy');
    expect((await first.t.state()).calls[0]?.state).toBe('connected');
  });

  it('the page rejects the bot: the bot sees reject', async () => {
    const r = room();
    const bot = await newBot(r);
    const page = await browser().openPage(server.url, { name: 'Rejecter', answer: 'reject', answerDelayMs: 300 });
    await page.t.join(r);
    const call = bot.calls.call(page.id);
    expect(await call.closed()).toMatchObject({ reason: 'reject', by: 'remote' });
  });

  it('the page is busy in another call: the bot sees busy', async () => {
    const r = room();
    const bot = await newBot(r);
    const other = await browser().openPage(server.url, { name: 'Other' });
    const page = await browser().openPage(server.url, { name: 'Busy' });
    await other.t.join(r);
    await page.t.join(r);
    await other.t.call(page.id);
    await expect.poll(async () => (await page.t.state()).calls[0]?.state, { timeout: 15_000 }).toBe('connected');
    const call = bot.calls.call(page.id);
    expect(await call.closed()).toMatchObject({ reason: 'busy', by: 'remote' });
  });

  it('pickup timeouts: the page gives up ringing, and the bot gives up ringing', async () => {
    const r = room();
    const bot = await newBot(r, { pickupTimeoutMs: 1500 }); // ringOnly: the bot never answers
    const page = await browser().openPage(server.url, { name: 'Slow', answer: 'ignore', pickupTimeoutMs: 1500 });
    await page.t.join(r);
    // Bot → page: the page rings and sends Bye pickuptimeout.
    const out = bot.calls.call(page.id);
    expect(await out.closed()).toMatchObject({ reason: 'pickuptimeout', by: 'remote' });
    // Page → bot: the bot rings and sends Bye pickuptimeout.
    await page.t.call(bot.id);
    await expect.poll(async () => (await page.t.state()).calls.find((c) => c.direction === 'out')?.byeReceived, { timeout: 10_000 }).toBe('pickuptimeout');
    const bye = (await page.t.received('Bye')).at(-1)!;
    expect(bye).toMatchObject({ From: bot.id, Data: { Type: 'Bye', To: page.id, Bye: { Reason: 'pickuptimeout' } } });
  });

  it('the page hangs up while still dialing: the bot sees abort', async () => {
    const r = room();
    const bot = await newBot(r); // ringOnly: the call keeps ringing
    const page = await browser().openPage(server.url, { name: 'Impatient' });
    await page.t.join(r);
    const incoming = firstValueFrom(bot.calls.calls$.pipe(take(1), timeout(10_000)));
    await page.t.call(bot.id);
    const call = await incoming;
    expect(call.state).toEqual({ status: 'ringing', direction: 'incoming' });
    await page.t.hangup(bot.id);
    expect(await call.closed()).toMatchObject({ reason: 'abort', by: 'remote' });
    expect((await page.t.sent('Bye')).at(-1)).toEqual({ Type: 'Bye', Bye: { To: bot.id, Type: 'Bye', Bye: { Reason: 'abort' } } });
  });

  it('token connections with a data channel, both directions', async () => {
    const r = room();
    const bot = await newBot(r);
    const page = await browser().openPage(server.url, { name: 'Token' });
    await page.t.join(r);
    const received: string[] = [];
    const botToken = `interop_${Date.now()}`;
    bot.calls.registerToken({
      match: botToken,
      onConnection: (conn) => {
        conn.dataChannel!.onMessage.subscribe((m) => {
          received.push(String(m));
          conn.dataChannel!.send(`bot:${String(m)}`);
        });
      },
    });
    // Page offers (creates "default"), bot answers with _token/_id echoed.
    const key = await page.t.tokenOpen(bot.id, botToken);
    await page.t.tokenSend(key, 'hello bot');
    await expect.poll(() => received, { timeout: 5000 }).toEqual(['hello bot']);
    await expect.poll(async () => page.t.tokenMessages(key), { timeout: 5000 }).toEqual(['bot:hello bot']);
    const answer = (await page.t.received('Answer')).at(-1) as { Data: { Answer: Record<string, unknown> } };
    expect(answer.Data.Answer).toMatchObject({ type: 'answer', _token: botToken, _id: 0 });
    const candidates = (await page.t.received('Candidate')) as { Data: { Candidate: Record<string, unknown> } }[];
    expect(candidates.length).toBeGreaterThan(0);
    for (const c of candidates) expect(c.Data.Candidate).toMatchObject({ _token: botToken, _id: 0 });
    // Bot offers to a token the page registered; the page answers and echoes.
    const pageToken = `page_${Date.now()}`;
    await page.t.registerToken(pageToken, 'echo');
    const conn = await bot.calls.connectToken(page.id, pageToken, { timeoutMs: 15_000 });
    const reply = firstValueFrom(channelText(conn.dataChannel!).pipe(take(1), timeout(5000)));
    conn.dataChannel!.send('hello page');
    expect(await reply).toBe('echo:hello page');
    const offer = (await page.t.received('Offer')).at(-1) as { Data: { Offer: Record<string, unknown> } };
    expect(offer.Data.Offer).toMatchObject({ type: 'offer', _token: pageToken });
    expect(offer.Data.Offer._id).toBe(conn.connectionId);
    // An unknown token is ignored by the page: the bot's connect times out.
    await expect(bot.calls.connectToken(page.id, 'nobody-knows-this', { timeoutMs: 2000 })).rejects.toMatchObject({ code: 'timeout' });
    expect((await page.t.state()).ignoredTokenOffers.map((o) => o.token)).toContain('nobody-knows-this');
    conn.close();
  });

  // KNOWN BUG (src/peer): CallManager keys token connections by (peer, _id) only
  // (tokenKey in src/peer/token.ts) and createTokenConnection closes the existing entry, so an
  // incoming token Offer closes the bot's own outgoing connection with the same _id. Both sides
  // number _ids from 0, so a page fetching from the bot while the bot fetches from the page hits it.
  // Fix: key by (token, peer, _id) — Answer and Candidate carry _token. Then drop `.fails`.
  it('token connections the bot offered and answered stay apart when both sides use the same _id', async () => {
    const r = room();
    const bot = await newBot(r);
    const page = await browser().openPage(server.url, { name: 'SameId' });
    await page.t.join(r);
    const botToken = `bot_${Date.now()}`;
    const pageToken = `page_${Date.now()}`;
    bot.calls.registerToken({
      match: botToken,
      onConnection: (conn) => conn.dataChannel!.onMessage.subscribe((m) => conn.dataChannel!.send(`bot:${String(m)}`)),
    });
    await page.t.registerToken(pageToken, 'echo');
    const outgoing = await bot.calls.connectToken(page.id, pageToken, { timeoutMs: 15_000 });
    const id = Number(outgoing.connectionId);
    const key = await page.t.tokenOpen(bot.id, botToken, 15_000, id);
    await page.t.tokenSend(key, 'from page');
    await expect.poll(async () => page.t.tokenMessages(key), { timeout: 5000 }).toEqual(['bot:from page']);
    // The bot's own outgoing connection with the same _id still works.
    expect(outgoing.isClosed).toBe(false);
    const reply = firstValueFrom(channelText(outgoing.dataChannel!).pipe(take(1), timeout(5000)));
    outgoing.dataChannel!.send('from bot');
    expect(await reply).toBe('echo:from bot');
    outgoing.close();
  });

  it('ad-hoc conference: the bot calls two pages, its Conference doc makes them connect to each other', async () => {
    const r = room();
    const bot = await newBot(r);
    const a = await browser().openPage(server.url, { name: 'AdhocA' });
    const b = await browser().openPage(server.url, { name: 'AdhocB' });
    await a.t.join(r);
    await b.t.join(r);
    const ca = bot.calls.call(a.id);
    await ca.waitFor('connected', 20_000);
    const cb = bot.calls.call(b.id);
    await cb.waitFor('connected', 20_000);
    // Second connected call: the bot sends Conference {Id, [a, b, bot]} (PROTOCOL-NOTES §4.1).
    expect(bot.calls.conferenceId).toBeDefined();
    const conf = bot.calls.conferenceId!;
    const [low, high] = a.id < b.id ? [a, b] : [b, a];
    await expect.poll(async () => (await low.t.state()).calls.find((c) => c.peerId === high.id)?.state, { timeout: 20_000, interval: 500 }).toBe('connected');
    await expect.poll(async () => (await high.t.state()).calls.find((c) => c.peerId === low.id)?.state, { timeout: 20_000, interval: 500 }).toBe('connected');
    expect((await low.t.state()).calls.find((c) => c.peerId === high.id)).toMatchObject({ direction: 'out', conference: conf });
    const docs = await a.t.conferenceDocs();
    expect(docs[0]).toMatchObject({ from: bot.id, id: conf });
    expect([...docs[0]!.list].sort()).toEqual([a.id, b.id, bot.id].sort());
    expect((await a.t.state()).conferenceId).toBe(conf);
  });

  it('the bot views a screen share the page announces on the call channel', async () => {
    const r = room();
    const bot = await newBot(r, { answer: () => 'accept' });
    const page = await browser().openPage(server.url, { name: 'Sharer' });
    await page.t.join(r);
    const incoming = firstValueFrom(bot.calls.calls$.pipe(take(1)));
    await page.t.call(bot.id);
    const call = await incoming;
    await call.waitFor('connected', 20_000);
    await expect.poll(async () => (await page.t.state()).calls[0]?.dc, { timeout: 10_000 }).toBe('open');
    const announced = firstValueFrom(call.documents$.pipe(filter((d): d is Received<'Screenshare'> => d.kind === 'Screenshare'), timeout(5000)));
    const token = await page.t.startScreenshare();
    expect(token).toBe(`screenshare_${page.id}_0`);
    const doc = (await announced).doc;
    expect(doc).toMatchObject({ Id: page.id, Type: 'Screenshare', Screenshare: { id: token } });
    // The viewer offers receive-only video on a token connection with that token.
    const viewer = await bot.calls.connectToken(page.id, token, { video: 'recvonly', timeoutMs: 15_000 });
    const track = await firstValueFrom(viewer.tracks$.pipe(timeout(10_000)));
    expect(track.kind).toBe('video');
    expect(track.codec.mimeType.toLowerCase()).toBe('video/vp8');
    let packets = 0;
    track.rtp$.subscribe(() => packets++);
    await expect.poll(() => packets, { timeout: 10_000 }).toBeGreaterThan(20);
    // The sharer stops: bye on the token channel, then close; the bot's viewer connection ends.
    const closed = viewer.whenClosed();
    await page.t.stopScreenshare();
    await closed;
    expect(call.state.status).toBe('connected');
  });
});
