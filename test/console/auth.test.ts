import { describe, expect, it } from 'vitest';
import { hostName, isLoopbackHost, sameSecret, sessionValue } from '../../src/console/auth.js';
import { checkExposure } from '../../src/console/console-server.js';

describe('console access rules', () => {
  it('knows loopback addresses and host names', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', 'LOCALHOST']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.org', '127.0.0.1.example.org', 'localhost.evil']) expect(isLoopbackHost(h), h).toBe(false);
    expect(hostName('127.0.0.1:9465')).toBe('127.0.0.1');
    expect(hostName('[::1]:9465')).toBe('::1');
    expect(hostName('evil.example')).toBe('evil.example');
  });

  it('compares tokens of any length without throwing', () => {
    expect(sameSecret('s3cret-token', 's3cret-token')).toBe(true);
    expect(sameSecret('s3cret-toke', 's3cret-token')).toBe(false);
    expect(sameSecret('', 's3cret-token')).toBe(false);
    expect(sameSecret(undefined, 's3cret-token')).toBe(false);
    expect(sessionValue('a')).not.toBe(sessionValue('b'));
    expect(sessionValue('a')).not.toContain('a'.repeat(2));
  });

  it('refuses to listen off loopback without a token', () => {
    expect(() => checkExposure('0.0.0.0', undefined)).toThrow(/needs a console token: set SPREED_CONSOLE_TOKEN/);
    expect(() => checkExposure('0.0.0.0', '')).toThrow(expect.objectContaining({ code: 'TOKEN_REQUIRED' }));
    expect(() => checkExposure('0.0.0.0', 'x'.repeat(32))).not.toThrow();
    expect(() => checkExposure('127.0.0.1', undefined)).not.toThrow();
  });
});
