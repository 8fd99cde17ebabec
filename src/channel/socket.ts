import WebSocket, { type RawData } from 'ws';
import { MAX_RECEIVED_FRAME } from '../protocol/index.js';
import type { Logger } from '../util/logger.js';

/** A hostile server must not make one frame eat unbounded memory; a 5000-user Users list fits. */
const MAX_PAYLOAD = MAX_RECEIVED_FRAME;

/**
 * Creates the WebSocket of one connection attempt; `token` reclaims the session (`?t=<Token>`).
 * @throws whatever `ws` throws for a URL it cannot open
 */
export function openWebSocket(baseUrl: string, token: string | undefined): WebSocket {
  const url = new URL(baseUrl);
  if (token) url.searchParams.set('t', token);
  // ws answers server pings by itself (autoPong), which the real server requires within 60 s.
  return new WebSocket(url, { maxPayload: MAX_PAYLOAD, autoPong: true });
}

/** True when frames can be written to `socket` now. */
export function isOpen(socket: WebSocket | undefined): socket is WebSocket {
  return socket !== undefined && socket.readyState === WebSocket.OPEN;
}

/** Writes `text` when the socket is open; a failed write is only logged (the drop is noticed elsewhere). */
export function writeText(socket: WebSocket | undefined, text: string, log: Logger): void {
  if (!isOpen(socket)) return;
  socket.send(text, (error) => error && log.debug({ err: error }, 'channel: write failed'));
}

/** The text of a received text message (possibly fragmented). */
export function messageText(data: RawData): string {
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
}

/** Closes a socket politely, terminating it when the close handshake takes too long. */
export function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => socket.terminate(), 1000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
    else socket.close(1000, 'bye');
  });
}
