import { randomBytes } from 'node:crypto';

/*
 * Buddy pictures (PROTOCOL-NOTES §8.1): a Status `buddyPicture` data URL is stored per session and
 * rewritten to `img:<20-char id>/<change id>/picture.<ext>`, fetched over HTTP at
 * `<base>static/img/buddy/<flags>/<that path>`, and deleted when the session closes.
 */

const FILENAMES: Record<string, string> = {
  'image/png': 'picture.png',
  'image/jpeg': 'picture.jpg',
  'image/gif': 'picture.gif',
  'image/webp': 'picture.webp',
};

export interface BuddyImage {
  mimetype: string;
  data: Buffer;
  changeId: string;
  lastChange: Date;
}

function b64url(buf: Buffer): string {
  return buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** Unsigned varint of a bigint, as Go's `binary.PutUvarint`. */
function uvarint(value: bigint): Buffer {
  const bytes: number[] = [];
  while (value >= 0x80n) {
    bytes.push(Number(value & 0x7fn) | 0x80);
    value >>= 7n;
  }
  bytes.push(Number(value));
  return Buffer.from(bytes);
}

export class ImageCache {
  private readonly images = new Map<string, BuddyImage>();
  private readonly bySession = new Map<string, string>();

  /** Stores `<mimetype>;base64,<data>` (a data URL without `data:`); returns the image path or '' when undecodable. */
  update(sessionId: string, image: string): string {
    let mimetype = 'image/x-unknown';
    const semicolon = image.indexOf(';');
    if (semicolon !== -1) {
      mimetype = image.slice(0, semicolon);
      image = image.slice(semicolon + 1);
    }
    const comma = image.indexOf(',');
    let data: Buffer;
    if (comma !== -1) {
      if (image.slice(0, comma) !== 'base64') return '';
      const payload = image.slice(comma + 1);
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload) || payload.length % 4 !== 0) return '';
      data = Buffer.from(payload, 'base64');
    } else {
      data = Buffer.from(image);
    }
    let imageId = this.bySession.get(sessionId);
    let entry = imageId ? this.images.get(imageId) : undefined;
    if (!imageId || !entry) {
      imageId = b64url(randomBytes(15));
      entry = { mimetype: '', data: Buffer.alloc(0), changeId: '', lastChange: new Date() };
      this.bySession.set(sessionId, imageId);
      this.images.set(imageId, entry);
    }
    if (entry.mimetype !== mimetype || !entry.data.equals(data)) {
      entry.lastChange = new Date();
      entry.changeId = b64url(uvarint(BigInt(entry.lastChange.getTime()) * 1_000_000n));
      entry.mimetype = mimetype;
      entry.data = data;
    }
    const filename = FILENAMES[mimetype];
    return `${imageId}/${entry.changeId}${filename ? `/${filename}` : ''}`;
  }

  get(imageId: string): BuddyImage | undefined {
    return this.images.get(imageId);
  }

  delete(sessionId: string): void {
    const imageId = this.bySession.get(sessionId);
    if (imageId === undefined) return;
    this.bySession.delete(sessionId);
    this.images.delete(imageId);
  }
}
