import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bot, ofType } from '../../src/index.js';
import { greeter } from '../../bots/greeter.js';
import { next, participant, testServer } from '../helpers/peers.js';

let server: Awaited<ReturnType<typeof testServer>>;
beforeEach(async () => {
  server = await testServer();
});
afterEach(async () => {
  await server.close();
});

describe('greeter bot', () => {
  it('greets a joiner by display name', async () => {
    const bot = new Bot({ server: server.url, room: 'lobby', name: 'Greeter', plugins: [greeter({ text: 'Hello {name}!' })] });
    await bot.start();
    try {
      const bob = await participant(server.url, 'lobby', 'Bob');
      const greeting = await next(bob.documents$.pipe(ofType('Chat')), (r) => r.from === bot.channel.id);
      expect(greeting.doc.Chat.Message).toBe('Hello Bob!');
      await bob.close();
    } finally {
      await bot.stop();
    }
  });
});
