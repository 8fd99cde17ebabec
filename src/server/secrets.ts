import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/*
 * Per-server secrets and the tokens derived from them (PROTOCOL-NOTES §1.4, §2.2): session ids,
 * resume Tokens, `A` attestations and TURN REST credentials. All keys are random per server, so
 * tokens never survive a restart, as with a real server started without configured secrets.
 */

const TOKEN_MAX_AGE_S = 30 * 86_400;
const ATTESTATION_MAX_AGE_S = 300;
const TURN_TTL_S = 3600;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** URL-safe base64 with `=` padding, the alphabet Go's `base64.URLEncoding` uses. */
function b64url(buf: Buffer): string {
  return buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

function fromB64url(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_=-]*$/.test(text)) return undefined;
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What a resume Token carries. */
export interface SessionIdentity {
  id: string;
  sid: string;
}

/** TURN credentials as sent in `Self.Turn`. */
export interface TurnData {
  username: string;
  password: string;
  ttl: number;
  urls: string[] | null;
}

export class Secrets {
  private readonly hashKey = randomBytes(32);
  private readonly blockKey = randomBytes(32);
  private readonly attestationKey = randomBytes(32);

  private mac(key: Buffer, ...parts: string[]): Buffer {
    return createHmac('sha256', key).update(parts.join('|')).digest();
  }

  /** A fresh identity: a 32-char alphanumeric secret Sid and an HMAC-signed Id of about 156 URL-safe chars. */
  newIdentity(): SessionIdentity {
    let sid = '';
    for (let i = 0; i < 32; i++) sid += ALNUM[randomInt(ALNUM.length)];
    const stamp = Buffer.alloc(8);
    stamp.writeBigUInt64BE(BigInt(Date.now()));
    const nonce = randomBytes(75);
    const mac = createHmac('sha256', this.hashKey).update(stamp).update(nonce).update(sid).digest();
    // 115 bytes → 156 URL-safe base64 chars with `==`, like the real ids; the MAC first so ids share no prefix.
    const id = b64url(Buffer.concat([mac, stamp, nonce]));
    return { id, sid };
  }

  /** Resume Token: `{Id,Sid}` sealed with AES-256-GCM, valid for 30 days. */
  encodeToken(identity: SessionIdentity): string {
    const stamp = String(nowSeconds());
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.blockKey, iv);
    cipher.setAAD(Buffer.from(`token|${stamp}`));
    const body = Buffer.concat([cipher.update(JSON.stringify({ Id: identity.id, Sid: identity.sid })), cipher.final()]);
    const sealed = b64url(Buffer.concat([iv, body, cipher.getAuthTag()]));
    return b64url(Buffer.from(`${stamp}|${sealed}`));
  }

  /** Decodes a resume Token; undefined when invalid, tampered with or older than 30 days. */
  decodeToken(token: string): SessionIdentity | undefined {
    if (token.length === 0 || token.length > 4096) return undefined;
    try {
      const outer = fromB64url(token)?.toString('latin1').split('|');
      if (!outer || outer.length !== 2) return undefined;
      const [stamp, sealedText] = outer as [string, string];
      const age = nowSeconds() - Number(stamp);
      if (!/^\d{1,12}$/.test(stamp) || age > TOKEN_MAX_AGE_S || age < -60) return undefined;
      const sealed = fromB64url(sealedText);
      if (!sealed || sealed.length < 12 + 16 + 2) return undefined;
      const decipher = createDecipheriv('aes-256-gcm', this.blockKey, sealed.subarray(0, 12));
      decipher.setAAD(Buffer.from(`token|${stamp}`));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      const plain = Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
      const value: unknown = JSON.parse(plain.toString('utf8'));
      if (typeof value !== 'object' || value === null) return undefined;
      const { Id, Sid } = value as Record<string, unknown>;
      return typeof Id === 'string' && typeof Sid === 'string' ? { id: Id, sid: Sid } : undefined;
    } catch {
      return undefined;
    }
  }

  /** `A`: HMAC-SHA256 attestation of a session id with its minting time. */
  encodeAttestation(id: string): string {
    const stamp = String(nowSeconds());
    const mac = b64url(this.mac(this.attestationKey, 'attestation', stamp, id));
    return b64url(Buffer.from(`${stamp}|${id}|${mac}`));
  }

  /** The session id an `A` attests, or an error message like the real server's. */
  decodeAttestation(token: string): { id: string } | { error: string } {
    const invalid = { error: 'securecookie: the value is not valid' };
    if (token.length > 4096) return invalid;
    const parts = fromB64url(token)?.toString('latin1').split('|');
    if (!parts || parts.length !== 3) return invalid;
    const [stamp, id, mac] = parts as [string, string, string];
    const expected = this.mac(this.attestationKey, 'attestation', stamp, id);
    const given = fromB64url(mac);
    if (!given || !safeEqual(given, expected)) return invalid;
    const age = nowSeconds() - Number(stamp);
    if (age > ATTESTATION_MAX_AGE_S) return { error: 'securecookie: expired timestamp' };
    if (age < -60) return { error: 'securecookie: timestamp is too new' };
    return { id };
  }

  /** TURN REST credentials (only with a secret; otherwise all empty with `urls:null`). */
  turnData(id: string, turnSecret: string | undefined, turnUris: string[]): TurnData {
    if (!turnSecret) return { username: '', password: '', ttl: 0, urls: null };
    const expiry = nowSeconds() + TURN_TTL_S;
    const username = `${expiry}:${createHash('sha256').update(id).digest('base64')}`;
    const password = createHmac('sha1', turnSecret).update(username).digest('base64');
    return { username, password, ttl: TURN_TTL_S, urls: [...turnUris] };
  }
}

/** Attestations are re-minted lazily once older than this (PROTOCOL-NOTES §1.4). */
export const ATTESTATION_REFRESH_MS = 180_000;
