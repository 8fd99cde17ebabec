import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Channel } from '../../src/channel/index.js';
import { CallManager, answerPolicy, type CallManagerOptions, type TokenConnection } from '../../src/peer/index.js';
import { startServer, type ChannelingServer } from '../../src/server/index.js';
import { next, until } from './util.js';

/* The same flows as the hub tests, through the embedded channeling server and real Channels. */

let server: ChannelingServer;
const channels: Channel[] = [];
const managers: CallManager[] = [];

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  for (const m of managers.splice(0)) m.close();
  await Promise.all(channels.splice(0).map((c) => c.close()));
});

async function bot(room: string, options: Partial<CallManagerOptions> = {}): Promise<{ channel: Channel; calls: CallManager; id: string }> {
  const channel = new Channel({ url: server.url });
  channels.push(channel);
  await channel.connect();
  const calls = new CallManager({ signaling: channel, ...options });
  managers.push(calls);
  await channel.hello({ room });
  return { channel, calls, id: channel.id! };
}

function connectedCount(m: CallManager): number {
  return [...m.calls.values()].filter((c) => c.state.status === 'connected').length;
}

describe('peer layer through the embedded server and Channel', () => {
  it('call, Talking round trip and hangup', async () => {
    const a = await bot('peer-call');
    const b = await bot('peer-call', { answer: answerPolicy({ kind: 'everyone' }) });
    const talking = next(b.calls.documents$, (d) => d.kind === 'Talking');
    const call = a.calls.call(b.id);
    await call.waitFor('connected');
    call.sendTalking(true);
    const doc = await talking;
    expect(doc.from).toBe(a.id);
    const callee = b.calls.calls.get(a.id)!;
    call.hangup();
    expect(await callee.closed()).toMatchObject({ reason: 'hangup', by: 'remote' });
  });

  it('busy reply and a disconnecting peer (hard Left) end calls', async () => {
    const a = await bot('peer-left');
    const b = await bot('peer-left', { answer: () => 'busy' });
    expect(await a.calls.call(b.id).closed()).toMatchObject({ reason: 'busy', by: 'remote' });
    b.calls.setAnswerHandler(() => 'accept');
    const call = a.calls.call(b.id);
    await call.waitFor('connected');
    b.calls.close();
    await b.channel.close();
    // Closing B's manager sends a Bye first; either the Bye or the Left ends the call.
    const closed = await call.closed();
    expect(['hangup', 'left']).toContain(closed.reason);
  });

  it('token connections with two _ids, and an unknown token ignored', async () => {
    const a = await bot('peer-token');
    const b = await bot('peer-token');
    const served: TokenConnection[] = [];
    b.calls.registerToken({ match: 'file_1', onConnection: (c) => served.push(c) });
    const [one, two] = await Promise.all([a.calls.connectToken(b.id, 'file_1'), a.calls.connectToken(b.id, 'file_1')]);
    await until(() => served.length === 2, 20_000, 'served');
    expect(new Set(served.map((c) => String(c.connectionId)))).toEqual(new Set([String(one.connectionId), String(two.connectionId)]));
    await expect(a.calls.connectToken(b.id, 'file_unknown', { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'timeout' });
  });

  it('3-party ad-hoc conference formed by the Conference document', async () => {
    const everyone = answerPolicy({ kind: 'everyone' });
    const a = await bot('peer-adhoc');
    const b = await bot('peer-adhoc', { answer: everyone });
    const c = await bot('peer-adhoc', { answer: everyone });
    await a.calls.call(b.id).waitFor('connected');
    await a.calls.call(c.id).waitFor('connected');
    await until(() => [a, b, c].every((x) => connectedCount(x.calls) === 2), 20_000, 'all pairs connected');
    expect(b.calls.conferenceId).toBe(a.calls.conferenceId);
    expect(c.calls.conferenceId).toBe(a.calls.conferenceId);
  });

  it('Conference-type room: server Conference docs connect 3 bots pairwise', async () => {
    const never = answerPolicy({ kind: 'never' });
    const bots: Awaited<ReturnType<typeof bot>>[] = [];
    for (let i = 0; i < 3; i++) bots.push(await bot('conference/peer-test', { answer: never }));
    await until(() => bots.every((x) => connectedCount(x.calls) === 2), 30_000, 'all pairs connected');
    for (const x of bots) {
      expect(x.calls.conferenceRoom).toBe(true);
      expect(x.calls.conferenceId).toBe('Conference:conference/peer-test');
    }
    // Leaving the room (Hello elsewhere) hangs up all calls of that bot.
    await bots[0]!.channel.hello({ room: 'peer-elsewhere' });
    await until(() => bots[0]!.calls.calls.size === 0, 20_000, 'hung up');
    await until(() => bots.slice(1).every((x) => connectedCount(x.calls) === 1), 20_000, 'others dropped the link');
  });
});
