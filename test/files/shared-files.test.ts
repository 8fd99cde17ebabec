import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FILE_TOKEN_PATTERN, FileShareError, SharedFiles } from '../../src/files/index.js';
import { captureLogger, removeDir, tempDir } from './helpers.js';

describe('SharedFiles', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(() => removeDir(dir));

  it('shares a file with a fresh 96-hex token and a FileInfo like the web client', async () => {
    await writeFile(join(dir, 'photo.JPG'), Buffer.alloc(120_001));
    const files = new SharedFiles({ ownId: 'me' });
    const a = await files.share(join(dir, 'photo.JPG'));
    const b = await files.share(join(dir, 'photo.JPG'));
    expect(a).toMatchObject({ chunks: 3, name: 'photo.JPG', size: 120_001, type: 'image/jpeg' });
    expect(a.id).toMatch(FILE_TOKEN_PATTERN);
    expect(b.id).not.toBe(a.id);
    expect(files.has(a.id)).toBe(true);
  });

  it('gives an empty file 0 chunks', async () => {
    await writeFile(join(dir, 'empty'), '');
    const info = await new SharedFiles({ ownId: 'me' }).share(join(dir, 'empty'));
    expect(info).toMatchObject({ chunks: 0, size: 0, type: 'application/octet-stream' });
  });

  it('refuses folders and missing paths in share()', async () => {
    const files = new SharedFiles({ ownId: 'me' });
    await expect(files.share(dir)).rejects.toMatchObject({ code: 'share_not_file' });
    await expect(files.share(join(dir, 'nope'))).rejects.toBeInstanceOf(FileShareError);
  });

  it('refuses paths that leave the root through .. or a symlink', async () => {
    const root = join(dir, 'root');
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(dir, 'secret'), 'secret');
    await writeFile(join(root, 'ok.txt'), 'ok');
    await symlink(join(dir, 'secret'), join(root, 'link-out'));
    const { logger, lines } = captureLogger();
    const files = new SharedFiles({ ownId: 'me', root, logger });
    await expect(files.share(join(root, '..', 'secret'))).rejects.toMatchObject({ code: 'share_outside_root' });
    await expect(files.share(join(root, 'link-out'))).rejects.toMatchObject({ code: 'share_outside_root' });
    await expect(files.share(join(root, 'sub', '..', 'ok.txt'))).resolves.toMatchObject({ name: 'ok.txt' });
    await expect(files.shareFolder(dir)).rejects.toMatchObject({ code: 'share_outside_root' });
    expect(lines.filter((l) => l.msg.includes('outside the shared folder'))).toHaveLength(2);
    expect(files.list()).toHaveLength(1);
  });

  it('shareFolder recurses, follows links only inside the folder, skips escapes', async () => {
    const root = join(dir, 'share');
    await mkdir(join(root, 'a', 'b'), { recursive: true });
    await writeFile(join(root, 'top.txt'), 'top');
    await writeFile(join(root, 'a', 'mid.pdf'), 'mid');
    await writeFile(join(root, 'a', 'b', 'deep.png'), 'deep');
    await writeFile(join(dir, 'outside.txt'), 'outside');
    await symlink(join(dir, 'outside.txt'), join(root, 'escape.txt'));
    await symlink(dir, join(root, 'a', 'escape-dir'));
    await symlink(join(root, 'top.txt'), join(root, 'alias.txt')); // same file inside: shared once
    await symlink(join(root, 'nowhere'), join(root, 'dangling'));
    const { logger, lines } = captureLogger();
    const files = new SharedFiles({ ownId: 'me', logger });
    const infos = await files.shareFolder(root);
    expect(infos.map((i) => i.name).sort()).toEqual(['deep.png', 'mid.pdf', 'top.txt']);
    expect(infos.find((i) => i.name === 'mid.pdf')?.type).toBe('application/pdf');
    expect(lines.filter((l) => l.msg.includes('outside the shared folder'))).toHaveLength(2);
    expect(lines.filter((l) => l.msg.includes('dangling'))).toHaveLength(1);
  });

  it('unshare by token or by path', async () => {
    await mkdir(join(dir, 'f'));
    await writeFile(join(dir, 'f', '1'), '1');
    await writeFile(join(dir, 'f', '2'), '2');
    const files = new SharedFiles({ ownId: 'me' });
    const [one] = await files.shareFolder(join(dir, 'f'));
    expect(await files.unshare(one!.id)).toBe(1);
    expect(files.has(one!.id)).toBe(false);
    expect(await files.unshare(join(dir, 'f'))).toBe(1);
    expect(files.list()).toHaveLength(0);
  });

  it('rejects chunk sizes werift cannot carry', () => {
    expect(() => new SharedFiles({ ownId: 'me', chunkSize: 65_525 })).toThrow(RangeError);
    expect(() => new SharedFiles({ ownId: 'me', chunkSize: 0 })).toThrow(RangeError);
  });
});
