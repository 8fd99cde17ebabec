import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { filter } from 'rxjs';
import { startServer, type ChannelingServer } from '../../src/server/index.js';
import type { Received } from '../../src/protocol/index.js';
import { noChromium } from '../helpers/env.js';
import { useBrowser, type TestPage } from '../helpers/browser.js';
import { startBot, type TestBot } from './bot.js';
import { startBotAudio, type BotAudio } from './bot-audio.js';

describe.skipIf(noChromium).sequential('interop: conference room with the bot and two Chromium pages', () => {
  const browser = useBrowser();
  let server: ChannelingServer;
  let audio: BotAudio;
  let bot: TestBot | undefined;

  beforeAll(async () => {
    server = await startServer();
    audio = await startBotAudio();
  });
  afterEach(async () => {
    await bot?.close();
    bot = undefined;
  });
  afterAll(async () => {
    await audio?.close();
    await server?.close();
  });

  const connectedCalls = async (p: TestPage) => (await p.t.state()).calls.filter((c) => c.state === 'connected').map((c) => c.peerId).sort();

  it('everyone connects to everyone, the lower id offers with _conference, Talking reaches the bot', async () => {
    const room = `conference/interop-${Date.now()}`;
    const roomId = `Conference:${room}`;
    bot = await startBot(server.url, room, { media: { audio: 'sendrecv', video: 'recvonly', audioTrack: audio.track } });
    const talking: Received<'Talking'>[] = [];
    bot.calls.documents$.pipe(filter((d): d is Received<'Talking'> => d.kind === 'Talking')).subscribe((d) => talking.push(d));
    const a = await browser().openPage(server.url, { name: 'A' });
    const b = await browser().openPage(server.url, { name: 'B' });
    expect((await a.t.join(room)).roomType).toBe('Conference');
    await b.t.join(room);

    const everyone = [bot.id, a.id, b.id];
    const others = (id: string) => everyone.filter((x) => x !== id).sort();
    await expect.poll(() => [...bot!.calls.calls.values()].filter((c) => c.state.status === 'connected').map((c) => c.peerId).sort(), { timeout: 30_000, interval: 500 }).toEqual(others(bot.id));
    await expect.poll(() => connectedCalls(a), { timeout: 20_000, interval: 500 }).toEqual(others(a.id));
    await expect.poll(() => connectedCalls(b), { timeout: 20_000, interval: 500 }).toEqual(others(b.id));
    expect(bot.calls.conferenceId).toBe(roomId);
    expect(bot.calls.conferenceRoom).toBe(true);

    // Who offered whom: always the lower id, with _conference = the room id.
    for (const call of bot.calls.calls.values()) {
      expect(call.direction).toBe(bot.id < call.peerId ? 'outgoing' : 'incoming');
      expect(call.conferenceId).toBe(roomId);
    }
    for (const p of [a, b]) {
      for (const c of (await p.t.state()).calls) {
        expect(c.direction).toBe(p.id < c.peerId ? 'out' : 'in');
        expect(c.conference).toBe(roomId);
      }
    }
    // The server's Conference docs reached the pages without From.
    const docs = await a.t.conferenceDocs();
    expect(docs.at(-1)).toMatchObject({ id: roomId, to: roomId });
    expect(docs.at(-1)!.from).toBeUndefined();
    expect([...docs.at(-1)!.list].sort()).toEqual([...everyone].sort());

    // Media from both pages reaches the bot, and the bot's audio reaches both pages.
    const rtp = new Map<string, number>();
    bot.calls.tracks$.subscribe(() => undefined);
    for (const call of bot.calls.calls.values()) {
      for (const t of call.remoteTracks) t.rtp$.subscribe(() => rtp.set(`${t.participantId} ${t.kind}`, (rtp.get(`${t.participantId} ${t.kind}`) ?? 0) + 1));
    }
    await expect.poll(() => [...rtp.entries()].filter(([, n]) => n > 20).length, { timeout: 15_000 }).toBe(4);
    for (const p of [a, b]) {
      await expect.poll(async () => ((await p.t.remoteStats(bot!.id)).audio?.packets ?? 0) > 20, { timeout: 15_000, interval: 500 }).toBe(true);
    }

    // Talking on the call data channels, on a timer, arrives at the bot from both pages.
    await a.t.startTalking(400);
    await b.t.startTalking(400);
    await expect.poll(() => new Set(talking.filter((d) => d.doc.Talking === true).map((d) => d.from)).size, { timeout: 10_000 }).toBe(2);
    await expect.poll(() => new Set(talking.filter((d) => d.doc.Talking === false).map((d) => d.from)).size, { timeout: 10_000 }).toBe(2);
    expect(new Set(talking.map((d) => d.from))).toEqual(new Set([a.id, b.id]));
    await a.t.startTalking(0);
    await b.t.startTalking(0);
  });

  it('a page leaving the Conference room hangs up, a page disconnecting ends its call with the bot', async () => {
    const room = `conference/interop-leave-${Date.now()}`;
    bot = await startBot(server.url, room);
    const a = await browser().openPage(server.url, { name: 'Leaver' });
    const b = await browser().openPage(server.url, { name: 'Dropper' });
    await a.t.join(room);
    await b.t.join(room);
    await expect.poll(() => [...bot!.calls.calls.values()].filter((c) => c.state.status === 'connected').length, { timeout: 30_000, interval: 500 }).toBe(2);
    const callA = bot.calls.calls.get(a.id)!;
    const callB = bot.calls.calls.get(b.id)!;
    // A switches rooms: like the WC it hangs up every call with a plain Bye.
    await a.t.join(`elsewhere-${Date.now()}`);
    expect(await callA.closed()).toMatchObject({ reason: 'hangup', by: 'remote' });
    expect(callB.state.status).toBe('connected');
    // B's browser tab goes away without a Bye: the server's hard Left ends the bot's call.
    await b.context.close();
    expect(await callB.closed()).toMatchObject({ reason: 'left', by: 'remote' });
    expect(bot.calls.calls.size).toBe(0);
  });
});
