import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bot, shareFolder } from '../../src/index.js';
import { useBrowser } from '../helpers/browser.js';
import { noChromium } from '../helpers/env.js';
import { testServer } from '../helpers/peers.js';

/*
 * The stock web client makes a new private chat the active one, so a bot that greets joiners
 * privately moves their chat away from the room. The fixture page does not model the active chat
 * itself; what it records is every chat it received, which is what decides it: nothing private.
 */
describe.skipIf(noChromium)('shareFolder and a web client page that joins later', () => {
  const browser = useBrowser();
  let server: Awaited<ReturnType<typeof testServer>>;
  let bot: Bot;

  beforeAll(async () => {
    server = await testServer();
    const dir = await mkdtemp(join(tmpdir(), 'spreed-share-wc-'));
    await writeFile(join(dir, 'agenda.txt'), 'agenda');
    bot = new Bot({ server: server.url, room: 'share-wc', name: 'Library', plugins: [shareFolder({ dir, joinAnnounceDelayMs: 300 })] });
    await bot.start();
  });
  afterAll(async () => {
    await bot?.stop();
    await server?.close();
  });

  it('learns about the files from the room chat and gets no private chat from the bot', async () => {
    const page = await browser().openPage(server.url, { name: 'Joiner' });
    await page.t.join('share-wc');
    type PageChat = { from: string; to: string; chat: { Message?: string; Status?: { FileInfo?: { name: string } } } };
    const fromBot = async () => ((await page.t.chats()) as PageChat[]).filter((c) => c.from === bot.channel.id && c.chat.Message);
    await expect.poll(async () => (await fromBot()).map((c) => c.chat.Status?.FileInfo?.name), { timeout: 15_000 }).toEqual(['agenda.txt']);
    expect((await fromBot()).map((c) => c.to)).toEqual(['']);
  }, 60_000);
});
