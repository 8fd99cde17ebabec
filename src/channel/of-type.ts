import { filter, type OperatorFunction } from 'rxjs';
import type { DocumentKind, Received } from '../protocol/index.js';

/**
 * Keeps only documents of the given kinds and narrows their type.
 * @example `channel.documents$.pipe(ofType('Offer'))` emits `Received<'Offer'>`.
 */
export function ofType<K extends DocumentKind>(...kinds: K[]): OperatorFunction<Received, Received<K>> {
  const wanted = new Set<DocumentKind>(kinds);
  return filter((received): received is Received<K> => wanted.has(received.kind));
}
