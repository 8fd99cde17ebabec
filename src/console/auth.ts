import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';

/** Name of the cookie the page's login sets (an HMAC of the token, never the token). */
export const SESSION_COOKIE = 'spreed_console';
/** Header the page sends with every POST: a cross-site form cannot set it (CSRF). */
export const ACTION_HEADER = 'x-spreed-console';
/** Environment variable with the console token. */
export const TOKEN_ENV = 'SPREED_CONSOLE_TOKEN';

/** True for a listen address or Host name on the loopback interface. Pure. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** Host name of a `Host` header (without the port). Pure. */
export function hostName(hostHeader: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(hostHeader);
  if (bracketed) return bracketed[1]!;
  return hostHeader.replace(/:\d+$/, '');
}

/** Compares a presented secret with the expected one in constant time (both hashed first, so lengths do not leak). */
export function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The session cookie's value for `token`: proves the login without storing the token in the browser. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('spreed-bot console session v1').digest('base64url');
}

/** Who may use the console. */
export interface AccessPolicy {
  /** The console token; undefined means loopback-only without login. */
  token?: string;
}

/** True when the request carries the token (Bearer header) or the login cookie. */
export function hasToken(c: Context, token: string): boolean {
  const auth = c.req.header('authorization');
  const bearer = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
  return sameSecret(bearer, token) || sameSecret(getCookie(c, SESSION_COOKIE), sessionValue(token));
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

function refuse(c: Context, status: 401 | 403, error: string): Response {
  return c.json({ error }, status);
}

/**
 * Guards the console's API and files. With a token: every request needs it (Bearer header or the
 * login cookie). Without one the server listens on loopback only, and the Host header must be a
 * loopback name too (a DNS-rebinding page cannot reach it). State-changing requests (POST) also
 * need the {@link ACTION_HEADER} header and, when the browser sends an Origin, the console's own.
 */
export function requireAccess(policy: AccessPolicy): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host') ?? '';
    if (policy.token !== undefined) {
      if (!hasToken(c, policy.token)) return refuse(c, 401, 'token required: log in on the console page or send Authorization: Bearer <token>');
    } else if (!isLoopbackHost(hostName(host))) {
      return refuse(c, 403, 'this console answers loopback host names only; set a console token to reach it through other names');
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      if (c.req.header(ACTION_HEADER) === undefined) return refuse(c, 403, `actions need the ${ACTION_HEADER} header (use the console page)`);
      const origin = c.req.header('origin');
      if (origin !== undefined && originHost(origin) !== host) return refuse(c, 403, 'cross-origin action refused');
    }
    await next();
  };
}
