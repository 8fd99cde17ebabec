/**
 * Calls and token connections use only the STUN/TURN servers the channeling server names in Self,
 * like the web client. Unpatched werift falls back to Google's public STUN server when none is
 * configured: every connection then looked up stun.l.google.com and sent it a request before ICE
 * could start (patches/werift+0.24.4.patch adds `iceDefaultStunServer: false`; this test fails
 * without it).
 */
import type { RTCPeerConnection } from 'werift';
import { describe, expect, it } from 'vitest';
import { answerPolicy } from '../../src/peer/index.js';
import { Hub } from './hub.js';
import { iceAgentOf, useBots } from './util.js';

const bot = useBots();

/** The STUN server werift's ICE agent of `pc` will ask. */
function stunServerOf(pc: RTCPeerConnection): unknown {
  return iceAgentOf<{ stunServer?: unknown }>(pc).stunServer;
}

describe('ICE servers of calls', () => {
  it('no STUN server in Self: no STUN server at all (not Google’s public one)', async () => {
    const hub = new Hub();
    const caller = bot(hub, 'a');
    bot(hub, 'b', { answer: answerPolicy({ kind: 'everyone' }) });
    const call = caller.call('b');
    await call.waitFor('connected');
    expect(stunServerOf(call.peerConnection!)).toBeUndefined();
  });

  it('a STUN server in Self is the one asked', async () => {
    const hub = new Hub();
    const caller = bot(hub, 'a');
    hub.peer('a')!.iceServers = () => [{ urls: ['stun:127.0.0.1:3478'] }];
    bot(hub, 'b', { answer: answerPolicy({ kind: 'everyone' }) });
    const call = caller.call('b');
    await call.waitFor('connected');
    expect(stunServerOf(call.peerConnection!)).toEqual(['127.0.0.1', 3478]);
  });
});
