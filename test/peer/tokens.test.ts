import { afterEach, describe, expect, it } from 'vitest';
import { CallManager, PeerError, answerPolicy, type TokenConnection } from '../../src/peer/index.js';
import { Hub } from './hub.js';
import { next, until } from './util.js';

const managers: CallManager[] = [];
afterEach(() => {
  for (const m of managers.splice(0)) m.close();
});

function bot(hub: Hub, id: string): CallManager {
  const m = new CallManager({ signaling: hub.join(id), answer: answerPolicy({ kind: 'everyone' }) });
  managers.push(m);
  return m;
}

describe('token connections', () => {
  it('carry _token/_id everywhere, open the default channel, and run two _ids in parallel with a call', async () => {
    const hub = new Hub();
    const a = bot(hub, 'A');
    const b = bot(hub, 'B');
    const served: TokenConnection[] = [];
    b.registerToken({
      match: { prefix: 'file_' },
      onConnection: (conn) => {
        served.push(conn);
        conn.dataChannel!.onMessage.subscribe((m) => conn.dataChannel!.send(`echo:${conn.connectionId}:${String(m)}`));
      },
    });
    const call = a.call('B');
    const [one, two] = await Promise.all([a.connectToken('B', 'file_x'), a.connectToken('B', 'file_x')]);
    expect(one.connectionId).not.toBe(two.connectionId);
    expect(typeof one.connectionId).toBe('number');
    await until(() => served.length === 2, 20_000, 'two served connections');
    const replies: string[] = [];
    for (const conn of [one, two]) conn.dataChannel!.onMessage.subscribe((m) => replies.push(String(m)));
    one.dataChannel!.send('hi');
    two.dataChannel!.send('ho');
    await until(() => replies.length === 2, 20_000, 'echoes');
    expect(replies.sort()).toEqual([`echo:${one.connectionId}:hi`, `echo:${two.connectionId}:ho`].sort());
    await call.waitFor('connected');

    for (const e of hub.log) {
      const f = e.frame;
      const map = f.Type === 'Offer' ? f.Offer.Offer : f.Type === 'Answer' ? f.Answer.Answer : f.Type === 'Candidate' ? f.Candidate.Candidate : undefined;
      if (!map) continue;
      if (map._token !== undefined) {
        expect(map._token).toBe('file_x');
        expect([one.connectionId, two.connectionId]).toContain(map._id);
      }
    }
    const tokenAnswers = hub.sent('Answer').filter((e) => e.frame.Answer.Answer._token === 'file_x');
    expect(tokenAnswers).toHaveLength(2);
    const tokenCandidatesFromB = hub.sent('Candidate').filter((e) => e.from === 'B' && e.frame.Candidate.Candidate._token === 'file_x');
    expect(tokenCandidatesFromB.length).toBeGreaterThan(0);

    one.close();
    await until(() => !b.tokenConnections.some((c) => c.connectionId === one.connectionId), 20_000, 'remote close');
    expect(two.isClosed).toBe(false);
    expect(call.state.status).toBe('connected');
  });

  it('Offers for unknown tokens are ignored silently (no Answer, no Bye)', async () => {
    const hub = new Hub();
    const a = bot(hub, 'A');
    bot(hub, 'B');
    const err = await a.connectToken('B', 'nobody-knows', { timeoutMs: 800 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerError);
    expect((err as PeerError).code).toBe('timeout');
    expect(hub.log.filter((e) => e.from === 'B')).toHaveLength(0);
  });

  it('connectToken honours an abort signal', async () => {
    const hub = new Hub();
    const a = bot(hub, 'A');
    bot(hub, 'B');
    const ctrl = new AbortController();
    const p = a.connectToken('B', 'nobody-knows', { signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 50);
    await expect(p).rejects.toMatchObject({ code: 'aborted' });
    await next(a.tokenConnections$.pipe(), () => true, 10).catch(() => undefined);
    expect(a.tokenConnections).toHaveLength(0);
  });
});
