import { describe, expect, it } from 'vitest';
import { encodeEnvelope, encodeGo, GoMap } from '../../src/server/index.js';
import { exceedsNesting } from '../../src/server/json.js';
import { Secrets } from '../../src/server/secrets.js';

describe('Go-style JSON', () => {
  it('keeps struct order, sorts opaque maps by bytes at every level, omits undefined', () => {
    const value = { Z: 1, A: new GoMap({ b: { y: 1, x: 2 }, '10': 0, '2': 0, '-1': 0, _id: 0 }), U: undefined };
    expect(encodeGo(value)).toBe('{"Z":1,"A":{"-1":0,"10":0,"2":0,"_id":0,"b":{"x":2,"y":1}}}');
  });

  it('escapes <, >, &, U+2028 and U+2029 like Go', () => {
    expect(encodeGo({ s: '<a>&\u2028\u2029"' })).toBe('{"s":"\\u003ca\\u003e\\u0026\\u2028\\u2029\\""}');
  });

  it('writes envelopes in Data,From,To,Iid,A order without empty keys, with a newline', () => {
    expect(encodeEnvelope({ A: 'a', Iid: '', To: 't', From: 'f', Data: { Type: 'X' } })).toBe('{"Data":{"Type":"X"},"From":"f","To":"t","A":"a"}\n');
  });

  it('encodes opaque maps nested up to Go’s limit without overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = { a: deep };
    expect(encodeGo(new GoMap(deep)).length).toBe(60_001);
    expect(exceedsNesting('['.repeat(10_000) + ']'.repeat(10_000))).toBe(false);
    expect(exceedsNesting('['.repeat(10_001) + ']'.repeat(10_001))).toBe(true);
    expect(exceedsNesting(`"${'['.repeat(20_000)}"`)).toBe(false);
  });
});

describe('secrets', () => {
  it('round-trips tokens and attestations and rejects tampering', () => {
    const secrets = new Secrets();
    const identity = secrets.newIdentity();
    expect(identity.id).toHaveLength(156);
    const token = secrets.encodeToken(identity);
    expect(secrets.decodeToken(token)).toEqual(identity);
    expect(secrets.decodeToken(token.replace(/^./, (c) => (c === 'M' ? 'N' : 'M')))).toBeUndefined();
    expect(new Secrets().decodeToken(token)).toBeUndefined();
    const a = secrets.encodeAttestation(identity.id);
    expect(secrets.decodeAttestation(a)).toEqual({ id: identity.id });
    expect(new Secrets().decodeAttestation(a)).toHaveProperty('error');
  });
});
