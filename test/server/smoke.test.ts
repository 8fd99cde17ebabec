import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type ChannelingServer } from '../../src/server/index.js';
import { TestClient } from './client.js';

let server: ChannelingServer;
beforeEach(async () => {
  server = await startServer({ port: 0 });
});
afterEach(async () => {
  await server.close();
});

describe('embedded server smoke', () => {
  it('pushes Self, welcomes, relays an Offer and a Chat', async () => {
    const a = await TestClient.connect(server.url);
    const b = await TestClient.connect(server.url);
    expect(a.id).toMatch(/^[A-Za-z0-9_=-]{156}$/);
    expect((await a.hello('r1')).Data.Type).toBe('Welcome');
    await b.hello('r1');
    expect((await a.nextOfType('Joined')).Data.Id).toBe(b.id);
    a.send({ Type: 'Offer', Offer: { To: b.id, Type: 'Offer', Offer: { type: 'offer', sdp: 'v=0' } } });
    expect((await b.nextOfType('Offer')).From).toBe(a.id);
    a.send({ Type: 'Chat', Chat: { To: b.id, Type: 'Chat', Chat: { Message: 'hi', NoEcho: true } } });
    expect((await b.nextOfType('Chat')).Data.Chat.Message).toBe('hi');
    a.close();
    b.close();
  });
});
