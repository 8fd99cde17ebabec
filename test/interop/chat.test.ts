import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { randomBytes } from 'node:crypto';
import { startServer, type ChannelingServer } from '../../src/server/index.js';
import { frames, type Received } from '../../src/protocol/index.js';
import { noChromium } from '../helpers/env.js';
import { useBrowser } from '../helpers/browser.js';
import { startBot, type TestBot } from './bot.js';

describe.skipIf(noChromium).sequential('interop: chat between Chromium and the bot', () => {
  const browser = useBrowser();
  let server: ChannelingServer;
  let bot: TestBot | undefined;

  beforeAll(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    await bot?.close();
    bot = undefined;
  });
  afterAll(async () => {
    await server?.close();
  });

  const chatFrom = (b: TestBot, from: string, pred: (d: Received<'Chat'>) => boolean = () => true) =>
    firstValueFrom(b.channel.documents$.pipe(filter((d): d is Received<'Chat'> => d.kind === 'Chat' && d.from === from && pred(d)), timeout(10_000)));

  it('room and private chat over the server; the page acks private messages with delivered', async () => {
    const room = `interop-chat-${Date.now()}`;
    bot = await startBot(server.url, room);
    const page = await browser().openPage(server.url, { name: 'Chatty' });
    await page.t.join(room);
    // Page → room: the bot gets the WC shape with NoEcho, a 32-hex Mid, Time set by the server.
    const group = chatFrom(bot, page.id);
    const mid = await page.t.chat('', 'hello room');
    const g = await group;
    expect(g.doc.To).toBe('');
    expect(g.doc.Chat).toMatchObject({ Message: 'hello room', Mid: mid, NoEcho: true });
    expect(mid).toMatch(/^[0-9a-f]{32}$/);
    // Page → bot privately.
    const priv = chatFrom(bot, page.id);
    await page.t.chat(bot.id, 'hello bot');
    expect((await priv).doc).toMatchObject({ To: bot.id, Chat: { Message: 'hello bot' } });
    // Bot → page privately with a Mid: the page acks with Status {State:"delivered", Mid} and no top-level Mid.
    const botMid = randomBytes(16).toString('hex');
    const ack = chatFrom(bot, page.id, (d) => d.doc.Chat.Status?.State === 'delivered');
    bot.channel.send(frames.chat(page.id, { Mid: botMid, Message: 'hello page', NoEcho: true }));
    const a = await ack;
    expect(a.doc.Chat.Status).toMatchObject({ State: 'delivered', Mid: botMid });
    expect(a.doc.Chat.Mid ?? null).toBeNull();
    await expect.poll(async () => (await page.t.chats()).some((c) => c.from === bot!.id && c.chat.Message === 'hello page'), { timeout: 5000 }).toBe(true);
  });

  it('private chat over the call data channel while a call is up', async () => {
    const room = `interop-chat-dc-${Date.now()}`;
    bot = await startBot(server.url, room, { answer: () => 'accept' });
    const page = await browser().openPage(server.url, { name: 'ChattyCall' });
    await page.t.join(room);
    await page.t.call(bot.id);
    await expect.poll(async () => (await page.t.state()).calls[0]?.dc, { timeout: 20_000 }).toBe('open');
    const call = bot.calls.calls.get(page.id)!;
    const got = firstValueFrom(call.documents$.pipe(filter((d): d is Received<'Chat'> => d.kind === 'Chat'), timeout(5000)));
    const mid = await page.t.chat(bot.id, 'over the channel');
    const d = await got;
    expect(d.from).toBe(page.id);
    expect(d.doc).toMatchObject({ To: bot.id, Chat: { Mid: mid, Message: 'over the channel', NoEcho: true } });
    // Bot → page over the channel (bare document): the page acks over the channel too.
    const ack = firstValueFrom(call.documents$.pipe(filter((x): x is Received<'Chat'> => x.kind === 'Chat' && x.doc.Chat.Status?.State === 'delivered'), timeout(5000)));
    const botMid = randomBytes(16).toString('hex');
    call.sendDocument({ To: page.id, Type: 'Chat', Chat: { Mid: botMid, Message: 'p2p hello', NoEcho: true } });
    expect((await ack).doc.Chat.Status).toMatchObject({ State: 'delivered', Mid: botMid });
    expect((await page.t.chats()).find((c) => c.chat.Message === 'p2p hello')).toMatchObject({ from: bot.id, via: 'p2p' });
  });
});
