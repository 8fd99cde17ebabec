import { describe, expect, it } from 'vitest';
import { causeOfClose, causeOfError, causeOfResponse, causeOfTimeout, sameCause } from '../../src/channel/cause.js';
import { displayUrl } from '../../src/channel/failure-log.js';

const systemError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('connection causes', () => {
  it('classifies system errors, keeping the code and a hint', () => {
    expect(causeOfError(systemError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'))).toMatchObject({ kind: 'refused', code: 'ECONNREFUSED', permanent: false });
    expect(causeOfError(systemError('ENOTFOUND', 'getaddrinfo ENOTFOUND x.invalid'))).toMatchObject({ kind: 'dns', code: 'ENOTFOUND', permanent: true });
    expect(causeOfError(systemError('EAI_AGAIN', 'getaddrinfo EAI_AGAIN x'))).toMatchObject({ kind: 'dns', permanent: false });
    expect(causeOfError(systemError('ECONNRESET', 'read ECONNRESET'))).toMatchObject({ kind: 'network', code: 'ECONNRESET', message: 'read ECONNRESET' });
    expect(causeOfError(systemError('EHOSTUNREACH', 'no route'))).toMatchObject({ kind: 'network', message: 'EHOSTUNREACH: no route' });
  });

  it('reads the code of an AggregateError (happy-eyeballs connect to several addresses)', () => {
    const aggregate = new AggregateError([systemError('ECONNREFUSED', 'connect ECONNREFUSED ::1:1'), systemError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1')], '');
    const cause = causeOfError(aggregate);
    expect(cause).toMatchObject({ kind: 'refused', code: 'ECONNREFUSED' });
    expect(cause.message).toContain('connect ECONNREFUSED ::1:1');
  });

  it('classifies TLS failures as permanent and strips the OpenSSL file and line', () => {
    const wrongVersion = causeOfError(
      systemError('EPROTO', 'write EPROTO 80AC45E01E7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n'),
    );
    expect(wrongVersion).toMatchObject({ kind: 'tls', code: 'EPROTO', permanent: true });
    expect(wrongVersion.message).toBe('TLS handshake failed (EPROTO: wrong version number): the server does not speak TLS on this port; use ws:// instead of wss://');
    const expired = causeOfError(systemError('CERT_HAS_EXPIRED', 'certificate has expired'));
    expect(expired).toMatchObject({ kind: 'tls', permanent: true });
    expect(expired.message).toContain('check the certificate');
    expect(causeOfError(systemError('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established'))).toMatchObject({ kind: 'tls', permanent: false });
  });

  it('turns a status on the upgrade into HTTP <status>: 4xx is permanent, 408/429/5xx are not', () => {
    expect(causeOfResponse(404, 'Not Found')).toMatchObject({ kind: 'http', code: 'HTTP 404', permanent: true });
    expect(causeOfResponse(404, 'Not Found').message).toContain('HTTP 404 Not Found on the WebSocket upgrade: wrong path');
    expect(causeOfResponse(403, '')).toMatchObject({ permanent: true });
    expect(causeOfResponse(429, '')).toMatchObject({ permanent: false });
    expect(causeOfResponse(502, 'Bad Gateway')).toMatchObject({ code: 'HTTP 502', permanent: false, message: 'HTTP 502 Bad Gateway on the WebSocket upgrade' });
    // ws reports an unhandled status as an error with this text.
    expect(causeOfError(new Error('Unexpected server response: 401'))).toMatchObject({ kind: 'http', code: 'HTTP 401' });
  });

  it('says whether a timeout happened before or after the upgrade; compares causes by kind and code', () => {
    expect(causeOfTimeout(5000, false).message).toBe('no answer within 5000 ms');
    expect(causeOfTimeout(5000, true).message).toContain('no Self within 5000 ms');
    expect(causeOfClose(1006, '')).toMatchObject({ kind: 'closed', code: 'close 1006', message: 'socket closed (1006)' });
    expect(sameCause(causeOfClose(1001, 'a'), causeOfClose(1001, 'b'))).toBe(true);
    expect(sameCause(causeOfClose(1001, ''), causeOfClose(1006, ''))).toBe(false);
    expect(sameCause(undefined, causeOfClose(1006, ''))).toBe(false);
  });

  it('logs URLs without user info or query (the session token travels as ?t=)', () => {
    expect(displayUrl('wss://user:secret@example.org:8443/base/ws?t=TOKEN#x')).toBe('wss://example.org:8443/base/ws');
  });
});
