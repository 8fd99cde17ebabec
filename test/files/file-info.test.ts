import { describe, expect, it } from 'vitest';
import {
  FILE_TOKEN_PATTERN,
  chunkCount,
  chunkLength,
  decideFetch,
  guessMimeType,
  mimeGlobMatches,
  mintFileToken,
  numberedName,
  parseFileInfo,
  sanitizeFileName,
  type FetchPolicy,
  type FileInfo,
} from '../../src/files/index.js';

describe('tokens and chunk arithmetic', () => {
  it('mints unique 96-char lowercase hex tokens', () => {
    const tokens = new Set(Array.from({ length: 100 }, () => mintFileToken('self')));
    expect(tokens.size).toBe(100);
    for (const t of tokens) expect(t).toMatch(FILE_TOKEN_PATTERN);
  });
  it('splits into equal chunks except the last', () => {
    expect(chunkCount(0, 60_000)).toBe(0);
    expect(chunkCount(1, 60_000)).toBe(1);
    expect(chunkCount(60_000, 60_000)).toBe(1);
    expect(chunkCount(60_001, 60_000)).toBe(2);
    expect(chunkLength(0, 60_001, 60_000)).toBe(60_000);
    expect(chunkLength(1, 60_001, 60_000)).toBe(1);
    expect(chunkLength(2, 60_001, 60_000)).toBe(0);
  });
});

describe('parseFileInfo', () => {
  const good: FileInfo = { id: 'a'.repeat(96), chunks: 4, size: 200_000, name: 'shared.bin', type: 'application/octet-stream' };
  it('accepts what the web client sends', () => {
    expect(parseFileInfo(good)).toEqual(good);
    expect(parseFileInfo({ ...good, size: 0, chunks: 0 })).toBeDefined();
    expect(parseFileInfo({ ...good, chunks: 13 })).toBeDefined(); // 16000-byte chunks
  });
  it.each([
    ['no id', { ...good, id: '' }],
    ['chunks not fitting size', { ...good, chunks: 1 }],
    ['more chunks than bytes', { ...good, size: 3, chunks: 4 }],
    ['empty file with chunks', { ...good, size: 0, chunks: 1 }],
    ['negative size', { ...good, size: -1 }],
    ['fractional chunks', { ...good, chunks: 4.5 }],
    ['string size', { ...good, size: '200000' }],
    ['null', null],
    ['array', [good]],
  ])('rejects %s', (_label, value) => {
    expect(parseFileInfo(value)).toBeUndefined();
  });
});

describe('names and types', () => {
  it('guesses MIME types by extension', () => {
    expect(guessMimeType('a.PDF')).toBe('application/pdf');
    expect(guessMimeType('x.tar.gz')).toBe('application/gzip');
    expect(guessMimeType('noext')).toBe('application/octet-stream');
  });
  it.each([
    ['a.txt', 'a.txt'],
    ['../../etc/passwd', '_.._etc_passwd'],
    ['..', 'download'],
    ['.hidden', 'hidden'],
    ['c:\\win\\evil.exe', 'c__win_evil.exe'],
    ['a\u0000b\nc', 'a_b_c'],
    ['', 'download'],
    ['   ', 'download'],
  ])('sanitises %j to %j', (input, output) => {
    expect(sanitizeFileName(input)).toBe(output);
  });
  it('shortens long names keeping the extension', () => {
    const s = sanitizeFileName('ä'.repeat(300) + '.jpeg');
    expect(Buffer.byteLength(s)).toBeLessThanOrEqual(200);
    expect(s.endsWith('.jpeg')).toBe(true);
  });
  it('numbers collisions before the extension', () => {
    expect(numberedName('a.txt', 0)).toBe('a.txt');
    expect(numberedName('a.txt', 2)).toBe('a (2).txt');
    expect(numberedName('README', 1)).toBe('README (1)');
  });
});

describe('decideFetch', () => {
  const info: FileInfo = { id: 'x', chunks: 1, size: 5000, name: 'cat.png', type: 'image/png' };
  const alice = { id: 'sid-alice', displayName: 'Alice' };
  const bob = { id: 'sid-bob' };
  const cases: Array<[string, FetchPolicy, typeof alice | typeof bob, boolean]> = [
    ['everyone', { kind: 'everyone' }, bob, true],
    ['never', { kind: 'never' }, alice, false],
    ['allow-list by id', { kind: 'allow-list', ids: ['sid-bob'] }, bob, true],
    ['allow-list by name', { kind: 'allow-list', names: ['Alice'] }, alice, true],
    ['allow-list miss', { kind: 'allow-list', ids: ['sid-alice'], names: ['Alice'] }, bob, false],
    ['max-size ok', { kind: 'max-size', bytes: 5000 }, bob, true],
    ['max-size too big', { kind: 'max-size', bytes: 4999 }, bob, false],
    ['type glob', { kind: 'type', patterns: ['image/*'] }, bob, true],
    ['type any', { kind: 'type', patterns: ['*'] }, bob, true],
    ['type miss', { kind: 'type', patterns: ['application/pdf', 'video/*'] }, bob, false],
    ['all agree', { kind: 'all', policies: [{ kind: 'allow-list', names: ['Alice'] }, { kind: 'max-size', bytes: 1e6 }] }, alice, true],
    ['all one says no', { kind: 'all', policies: [{ kind: 'everyone' }, { kind: 'type', patterns: ['text/*'] }] }, alice, false],
  ];
  it.each(cases)('%s', (_label, policy, sender, expected) => {
    const d = decideFetch(policy, info, sender);
    expect(d.fetch).toBe(expected);
    expect(d.reason).toBeTruthy();
  });
  it('matches MIME globs strictly', () => {
    expect(mimeGlobMatches('IMAGE/*', 'image/png')).toBe(true);
    expect(mimeGlobMatches('image/*', 'image/svg+xml')).toBe(true);
    expect(mimeGlobMatches('image/*', 'imagex/png')).toBe(false);
    expect(mimeGlobMatches('*/*', 'text/plain')).toBe(true);
    expect(mimeGlobMatches('application/vnd.*', 'application/vnd.oasis.opendocument.text')).toBe(true);
    expect(mimeGlobMatches('text/plain', 'text/plainx')).toBe(false);
    expect(mimeGlobMatches('a.b/c', 'axb/c')).toBe(false);
  });
});
