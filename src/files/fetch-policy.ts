import type { FileInfo } from './file-info.js';
import type { PeerRef } from './types.js';

/**
 * Which announced files the bot downloads on its own.
 * - `everyone` / `never`: all or nothing.
 * - `allow-list`: senders whose session id is in `ids` or whose display name is in `names`.
 * - `max-size`: files of at most `bytes`.
 * - `type`: files whose MIME type matches one of `patterns` (`image/*`, `application/pdf`, `*` for any).
 * - `all`: every listed policy must agree (e.g. allow-list and max-size).
 */
export type FetchPolicy =
  | { kind: 'everyone' }
  | { kind: 'never' }
  | { kind: 'allow-list'; ids?: readonly string[]; names?: readonly string[] }
  | { kind: 'max-size'; bytes: number }
  | { kind: 'type'; patterns: readonly string[] }
  | { kind: 'all'; policies: readonly FetchPolicy[] };

/** The answer of {@link decideFetch}; `reason` is for logs. */
export interface FetchDecision {
  fetch: boolean;
  reason: string;
}

/** Decides whether to download `info` announced by `sender`. Pure; unknown policy kinds say no. */
export function decideFetch(policy: FetchPolicy, info: FileInfo, sender: PeerRef): FetchDecision {
  switch (policy.kind) {
    case 'everyone':
      return yes('everyone is allowed');
    case 'never':
      return no('fetching is off');
    case 'allow-list': {
      if (policy.ids?.includes(sender.id)) return yes('sender id is allowed');
      if (sender.displayName !== undefined && policy.names?.includes(sender.displayName)) return yes('sender name is allowed');
      return no('sender is not on the allow list');
    }
    case 'max-size':
      return info.size <= policy.bytes ? yes(`size ${info.size} ≤ ${policy.bytes}`) : no(`size ${info.size} > ${policy.bytes}`);
    case 'type': {
      const type = info.type.trim().toLowerCase();
      const match = policy.patterns.find((p) => mimeGlobMatches(p, type));
      return match ? yes(`type ${type} matches ${match}`) : no(`type ${type || '(none)'} matches no allowed pattern`);
    }
    case 'all': {
      for (const p of policy.policies) {
        const d = decideFetch(p, info, sender);
        if (!d.fetch) return d;
      }
      return yes('all policies agree');
    }
    default:
      return no('unknown policy');
  }
}

/**
 * Matches a MIME type against a glob where `*` stands for any run of characters except `/`
 * (`image/*`, `application/vnd.*`); a lone `*` matches every type. Case-insensitive.
 */
export function mimeGlobMatches(pattern: string, type: string): boolean {
  const glob = pattern.trim();
  if (glob === '*') return true;
  const source = glob
    .toLowerCase()
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]*');
  return new RegExp(`^${source}$`).test(type.toLowerCase());
}

function yes(reason: string): FetchDecision {
  return { fetch: true, reason };
}

function no(reason: string): FetchDecision {
  return { fetch: false, reason };
}
