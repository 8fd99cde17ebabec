import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ImageCache } from './images.js';
import type { ResolvedOptions } from './options.js';

/*
 * The REST side a client needs before connecting (PROTOCOL-NOTES §2.1): `GET <base>api/v1/config`
 * `GET /.well-known/spreed-configuration` and buddy pictures at
 * `<base>static/img/buddy/<flags>/<imageid>/<anything>`. Everything else is 404.
 */

/** The config document, keys in the order of the Go `Config` struct. */
export function configDoc(options: ResolvedOptions): Record<string, unknown> {
  return {
    Title: 'Spreed WebRTC',
    S: `static/ver=${options.version}`,
    B: options.basePath,
    Token: 'i-did-not-change-the-public-token-boo',
    Renegotiation: false,
    StunURIs: [...options.stunUris],
    TurnURIs: [...options.turnUris],
    Tokens: false,
    Version: options.version,
    UsersEnabled: false,
    UsersAllowRegistration: false,
    UsersMode: '',
    DefaultRoomEnabled: options.defaultRoomEnabled,
    Plugin: '',
    AuthorizeRoomCreation: false,
    AuthorizeRoomJoin: false,
    Modules: ['screensharing', 'youtube', 'presentation'],
  };
}

function respond(res: ServerResponse, status: number, body: string, contentType = 'application/json; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Handles a plain HTTP request. */
export function handleHttp(options: ResolvedOptions, images: ImageCache, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (req.method !== 'GET' && req.method !== 'HEAD') return respond(res, 405, '{"code":"method_not_allowed","success":false}\n');
  if (path === `${options.basePath}api/v1/config`) {
    return respond(res, 200, `${JSON.stringify(configDoc(options))}\n`);
  }
  if (path === '/.well-known/spreed-configuration') {
    const proto = req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
    const endpoint = `${proto}://${req.headers.host ?? `${options.host}:${options.port}`}${options.basePath.replace(/\/$/, '')}`;
    return respond(res, 200, JSON.stringify({ 'spreed-webrtc_endpoint': endpoint }, null, 2), 'application/json');
  }
  const buddy = `${options.basePath}static/img/buddy/`;
  if (path.startsWith(buddy)) {
    const [, imageId] = path.slice(buddy.length).split('/');
    const image = imageId ? images.get(imageId) : undefined;
    if (!image) return respond(res, 404, 'Unknown image\n', 'text/plain; charset=utf-8');
    res.writeHead(200, {
      'Content-Type': image.mimetype,
      'Content-Length': image.data.length,
      ETag: image.changeId,
      'Last-Modified': image.lastChange.toUTCString(),
      'Cache-Control': 'public, no-transform, max-age=86400',
    });
    res.end(image.data);
    return;
  }
  respond(res, 404, '{"code":"not_found","success":false}\n');
}
