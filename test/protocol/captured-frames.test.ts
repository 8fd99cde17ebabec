import { describe, expect, it } from 'vitest';
import { encodeFrame, frames, parseClientFrame, parseDocument, parseEnvelope, type OutgoingFrame } from '../../src/protocol/index.js';
import { capturedReceived, capturedSent } from './fixtures/captured-frames.js';

const sent = (name: string) => capturedSent.find((f) => f.name === name)!.frame;

describe('frames captured from the web client (PROTOCOL-NOTES §13)', () => {
  it.each(capturedReceived.map((f) => [f.name, f.frame]))('received %s parses', (name, frame) => {
    const result = parseEnvelope(frame);
    expect(result.ok ? 'ok' : result.reason).toBe('ok');
    if (!result.ok) return;
    expect(result.value.kind).toBe(name.split(' ')[0]);
  });

  it.each(capturedSent.map((f) => [f.name, f.frame]))('sent %s parses as a client frame', (name, frame) => {
    const result = parseClientFrame(frame);
    expect(result.ok ? 'ok' : result.reason).toBe('ok');
    if (result.ok) expect(result.value.type).toBe(name.split(' ')[0]);
  });

  it('envelope fields: From, To, Iid, A', () => {
    const welcome = parseEnvelope(capturedReceived.find((f) => f.name === 'Welcome')!.frame);
    expect(welcome.ok && welcome.value).toMatchObject({ from: '<sid-A>', to: '', iid: '0' });
    const conference = parseEnvelope(capturedReceived.find((f) => f.name.startsWith('Conference (room'))!.frame);
    expect(conference.ok && conference.value).toMatchObject({ kind: 'Conference', from: '', to: 'Conference:conference/wc-mwwcnu3w' });
    const status = parseEnvelope(capturedReceived.find((f) => f.name === 'Status')!.frame);
    expect(status.ok && status.value.a).toBe('MTc5NTYy…');
  });

  it('frame builders produce the exact captured shapes', () => {
    const same = (frame: OutgoingFrame, captured: string) => expect(encodeFrame(frame)).toBe(captured);
    const hello = frames.hello({ Version: 'unreleased.1795623958', Ua: 'Chrome 156', Name: 'wc-demo-mwwcs7ua', Type: '' });
    expect(encodeFrame(hello, '0')).toBe(sent('Hello'));
    same(frames.status({ displayName: 'Alice', buddyPicture: null, message: null }), sent('Status'));
    same(frames.chat('', { Mid: 'c876c656dde66e1d09eb2d0443c49128', Message: 'hello from Alice (room chat, before call)', NoEcho: true }), sent('Chat'));
    same(frames.chat('<sid-A>', { Message: null, Status: { Typing: 'start' }, NoEcho: true }), sent('Chat (typing)'));
    same(frames.chat('<sid-B>', { Mid: null, Message: null, Status: { State: 'delivered', Mid: '98877721ffe8f521fc015b10104e7780' }, NoEcho: true }), sent('Chat (delivered)'));
    const offer = JSON.parse(sent('Offer (file xfer)')).Offer.Offer;
    same(frames.offer('<sid-A>', offer), sent('Offer (file xfer)'));
    same(frames.answer('<sid-A>', JSON.parse(sent('Answer')).Answer.Answer), sent('Answer'));
    const candidate = JSON.parse(sent('Candidate')).Candidate.Candidate;
    const { type: _type, ...withoutType } = candidate;
    same(frames.candidate('<sid-B>', withoutType), sent('Candidate'));
    same(frames.bye('<sid-B>'), sent('Bye'));
    same(frames.bye('<sid-B>', 'reject'), sent('Bye (reject)'));
    same(frames.conference('<caller sid>_1_3301609005117710', ['<sid-C>', '<sid-D>', '<sid-E>']), sent('Conference'));
    same(frames.alive(1795624862736), sent('Alive'));
  });

  it('Hello carries Credentials only with a PIN', () => {
    expect(frames.hello({ Name: 'r', Credentials: { PIN: '' } })).toEqual({ Type: 'Hello', Hello: { Name: 'r' } });
    expect(frames.hello({ Name: 'r', Credentials: null })).toEqual({ Type: 'Hello', Hello: { Name: 'r' } });
    expect(frames.hello({ Name: 'r', Credentials: { PIN: '1' } })).toEqual({ Type: 'Hello', Hello: { Name: 'r', Credentials: { PIN: '1' } } });
  });
});

describe('Room vs Conference trap (PROTOCOL-NOTES §2.4)', () => {
  it('a Room doc of a Conference-type room is a Room, a Conference list is a Conference', () => {
    const room = parseDocument({ Type: 'Conference', Name: 'conference/x', Credentials: null });
    expect(room.ok && room.value.kind).toBe('Room');
    const conference = parseDocument({ Type: 'Conference', Id: 'Conference:conference/x', Conference: ['a'] });
    expect(conference.ok && conference.value.kind).toBe('Conference');
    const both = parseDocument({ Type: 'Conference', Name: 'x', Id: 'c', Conference: ['a'] });
    expect(both.ok && both.value.kind).toBe('Conference');
  });
});

describe('invalid documents give a reason', () => {
  const reason = (text: string) => {
    const result = parseEnvelope(text);
    return result.ok ? 'ok' : result.reason;
  };
  it.each([
    ['not json', 'malformed JSON'],
    ['[1,2]', 'frame is not an object'],
    ['{"Data":5}', 'Data is not an object'],
    ['{"Data":{"Type":"Nope"}}', 'unknown document type "Nope"'],
    ['{"Data":{"Type":"__proto__"}}', 'unknown document type'],
    ['{"Data":{"Type":"constructor"}}', 'unknown document type'],
    ['{"Data":{"Type":"Joined"}}', 'invalid Joined: Id'],
    ['{"Data":{"Type":"Alive","Alive":"x"}}', 'invalid Alive: Alive'],
    ['{"Data":{"Type":"Chat","Chat":{"Status":{"Typing":"maybe"}}}}', 'invalid Chat: Chat.Status.Typing'],
    ['{"Data":{"Type":"Conference","Id":"c","Conference":[1]}}', 'invalid Conference: Conference.0'],
    ['{"Data":{"Type":"Offer","Offer":{"type":"offer"}}}', 'invalid Offer: Offer.sdp'],
    ['{"Data":{"Type":"Status","Status":"busy"}}', 'invalid Status: Status'],
  ])('%s → %s', (text, expected) => {
    expect(reason(text)).toContain(expected);
  });

  it('rejects frames over 16 MiB, accepts a Welcome of a 5000-user room (over 1 MiB)', () => {
    expect(reason(JSON.stringify({ Data: { Type: 'Chat', Chat: { Message: 'x'.repeat(16 << 20) } } }))).toMatch(/exceeds 16 MiB/);
    expect(reason(JSON.stringify({ Data: { Type: 'Chat', Chat: { Message: 'x'.repeat((1 << 20) + 1) } } }))).toMatch(/invalid Chat: Chat.Message/);
    const users = Array.from({ length: 5000 }, (_, i) => ({
      Type: 'Online', Id: `${i}`.padStart(156, 'A'), Ua: 'Chrome 156', Rev: 3, Prio: 100,
      Status: { buddyPicture: 'img:abcdefghijklmnopqrst/1/picture.jpg', displayName: `Participant ${i}`, message: null },
    }));
    const welcome = JSON.stringify({ Data: { Type: 'Welcome', Room: { Type: 'Room', Name: 'big', Credentials: null }, Users: users }, From: 'a', Iid: '0' });
    expect(welcome.length).toBeGreaterThan(1 << 20);
    expect(reason(welcome)).toBe('ok');
  });

  it('keeps __proto__ keys as inert data', () => {
    const result = parseEnvelope('{"Data":{"Type":"Status","Id":"a","Status":{"__proto__":{"polluted":true},"displayName":"x"}}}');
    expect(result.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
