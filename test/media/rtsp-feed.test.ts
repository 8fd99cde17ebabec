import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RtspFeed, parseRequest } from '../../src/media/rtsp-feed.js';
import { writeSdp } from '../../src/media/sdp.js';

const sdp = writeSdp([
  { kind: 'audio', codec: { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 } },
  { kind: 'video', codec: { mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 } },
]);

/** A minimal RTSP client speaking like ffmpeg (`-rtsp_transport tcp`). */
class Client {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private cseq = 0;
  ended = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('end', () => {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static open(url: string): Promise<Client> {
    const { port } = new URL(url.replace('rtsp:', 'http:'));
    return new Promise((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => resolve(new Client(socket)));
    });
  }

  private async until(pred: () => boolean): Promise<void> {
    while (!pred()) {
      if (this.ended) throw new Error('connection ended');
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Sends a request; resolves with the status line, headers and body of the reply. */
  async request(method: string, url: string, headers: Record<string, string> = {}): Promise<{ status: string; headers: Map<string, string>; body: string }> {
    const lines = [`${method} ${url} RTSP/1.0`, `CSeq: ${++this.cseq}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    this.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    await this.until(() => this.buffer.includes('\r\n\r\n'));
    const end = this.buffer.indexOf('\r\n\r\n');
    const [status, ...rest] = this.buffer.subarray(0, end).toString().split('\r\n');
    const map = new Map(rest.map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()] as [string, string]));
    const length = Number(map.get('content-length') ?? 0);
    await this.until(() => this.buffer.length >= end + 4 + length);
    const body = this.buffer.subarray(end + 4, end + 4 + length).toString();
    this.buffer = this.buffer.subarray(end + 4 + length);
    expect(map.get('cseq')).toBe(String(this.cseq));
    return { status: status!, headers: map, body };
  }

  /** Reads `count` interleaved frames. */
  async frames(count: number): Promise<{ channel: number; packet: Buffer }[]> {
    const out: { channel: number; packet: Buffer }[] = [];
    while (out.length < count) {
      await this.until(() => this.buffer.length >= 4 && this.buffer.length >= 4 + this.buffer.readUInt16BE(2));
      expect(this.buffer[0]).toBe(0x24);
      const size = this.buffer.readUInt16BE(2);
      out.push({ channel: this.buffer[1]!, packet: Buffer.from(this.buffer.subarray(4, 4 + size)) });
      this.buffer = this.buffer.subarray(4 + size);
    }
    return out;
  }

  async play(url: string): Promise<void> {
    await this.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    await this.request('SETUP', `${url}/trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3' });
    expect((await this.request('PLAY', `${url}/`)).status).toBe('RTSP/1.0 200 OK');
  }
}

describe('RtspFeed', () => {
  const feeds: RtspFeed[] = [];
  afterEach(() => {
    for (const f of feeds.splice(0)) f.close();
  });
  const listen = async (flushMs = 20, maxQueuedBytes?: number) => {
    const feed = await RtspFeed.listen({ sdp, tracks: 2, flushMs, maxQueuedBytes });
    feeds.push(feed);
    return feed;
  };

  it('answers OPTIONS, DESCRIBE (the SDP with trackID controls), SETUP and PLAY like an RTSP server', async () => {
    const feed = await listen();
    expect(feed.url).toMatch(/^rtsp:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{24}$/);
    const client = await Client.open(feed.url);
    expect((await client.request('OPTIONS', feed.url)).headers.get('public')).toContain('PLAY');
    const described = await client.request('DESCRIBE', feed.url, { Accept: 'application/sdp' });
    expect(described.headers.get('content-type')).toBe('application/sdp');
    expect(described.headers.get('content-base')).toBe(`${feed.url}/`);
    expect(described.body).toBe(sdp);
    expect(described.body).toContain('a=control:trackID=0');
    expect(described.body).toContain('a=control:trackID=1');
    const setup = await client.request('SETUP', `${feed.url}/trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3' });
    expect(setup.status).toBe('RTSP/1.0 200 OK');
    expect(setup.headers.get('transport')).toBe('RTP/AVP/TCP;unicast;interleaved=2-3');
    expect(setup.headers.get('session')).toMatch(/^[0-9a-f]+;timeout=60$/);
    // PLAY before every track is set up is refused.
    expect((await client.request('PLAY', `${feed.url}/`)).status).toMatch(/^RTSP\/1\.0 455/);
    await client.request('SETUP', `${feed.url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    let playing = false;
    void feed.playing.then(() => (playing = true));
    expect((await client.request('PLAY', `${feed.url}/`)).status).toBe('RTSP/1.0 200 OK');
    await feed.playing;
    expect(playing).toBe(true);
    client.socket.destroy();
  });

  it('refuses UDP transport, unknown tracks, unknown methods and garbage with RTSP errors', async () => {
    const feed = await listen();
    const client = await Client.open(feed.url);
    expect((await client.request('SETUP', `${feed.url}/trackID=0`, { Transport: 'RTP/AVP;unicast;client_port=5000-5001' })).status).toMatch(/^RTSP\/1\.0 461/);
    expect((await client.request('SETUP', `${feed.url}/trackID=7`, { Transport: 'RTP/AVP/TCP;interleaved=0-1' })).status).toMatch(/^RTSP\/1\.0 404/);
    expect((await client.request('RECORD', feed.url)).status).toMatch(/^RTSP\/1\.0 501/);
    client.socket.write('hello there\r\n\r\n');
    const reply = await new Promise<string>((resolve) => client.socket.once('data', (d: Buffer) => resolve(d.toString())));
    expect(reply).toMatch(/^RTSP\/1\.0 400/);
    client.socket.destroy();
  });

  it('closes a connection that does not know the secret URL, and still serves ffmpeg after it', async () => {
    const feed = await listen();
    const stranger = await Client.open(feed.url);
    const guessed = feed.url.replace(/\/[0-9a-f]+$/, '/recording');
    await expect(stranger.request('DESCRIBE', guessed)).rejects.toThrow(/connection ended/);
    const client = await Client.open(feed.url);
    await client.play(feed.url);
    await feed.playing;
    feed.writeRtp(0, false, 111, 1, 1, 1, Buffer.from([5]));
    expect((await client.frames(1))[0]!.packet.length).toBe(13);
    client.socket.destroy();
  });

  it('writes interleaved RTP with a 12-byte header, batched, on the SETUP channels', async () => {
    const feed = await listen(50);
    const client = await Client.open(feed.url);
    // Before PLAY nothing is sent: packets are dropped and counted.
    feed.writeRtp(0, false, 111, 1, 1, 1, Buffer.from([9]));
    expect(feed.dropped).toBe(1);
    await client.play(feed.url);
    await feed.playing;
    let chunks = 0;
    client.socket.on('data', () => chunks++);
    for (let i = 0; i < 10; i++) feed.writeRtp(i % 2, i === 9, i % 2 ? 96 : 111, 65530 + i, 0xfffffff0 + i, 0xdeadbeef, Buffer.from([i, i, i]));
    const frames = await client.frames(10);
    expect(chunks).toBe(1); // ten packets, one write
    expect(frames.map((f) => f.channel)).toEqual([0, 2, 0, 2, 0, 2, 0, 2, 0, 2]);
    const last = frames[9]!.packet;
    expect(last.length).toBe(15);
    expect(last[0]).toBe(0x80);
    expect(last[1]).toBe(0x80 | 96); // marker + PT
    expect(last.readUInt16BE(2)).toBe((65530 + 9) & 0xffff);
    expect(last.readUInt32BE(4)).toBe((0xfffffff0 + 9) >>> 0);
    expect(last.readUInt32BE(8)).toBe(0xdeadbeef);
    expect([...last.subarray(12)]).toEqual([9, 9, 9]);
    expect(feed.bytesWritten).toBe(frames.reduce((n, f) => n + 4 + f.packet.length, 0));
    expect(feed.dropped).toBe(1);
  });

  it('grows its batch for large packets and skips interleaved RTCP from the client', async () => {
    const feed = await listen(10);
    const client = await Client.open(feed.url);
    await client.play(feed.url);
    // ffmpeg sends receiver reports interleaved on the RTCP channel; a request after one still works.
    client.socket.write(Buffer.from([0x24, 1, 0, 4, 1, 2, 3, 4]));
    expect((await client.request('GET_PARAMETER', feed.url)).status).toBe('RTSP/1.0 200 OK');
    const big = Buffer.alloc(1400, 7);
    for (let i = 0; i < 40; i++) feed.writeRtp(1, false, 96, i, i, 1, big);
    const frames = await client.frames(40);
    expect(frames.every((f) => f.packet.length === 1412 && f.packet[1400 + 11] === 7)).toBe(true);
  });

  it('end() flushes what is queued and closes the connection; close() drops it', async () => {
    const feed = await listen(10_000);
    const client = await Client.open(feed.url);
    await client.play(feed.url);
    feed.writeRtp(0, false, 111, 1, 1, 1, Buffer.from([1]));
    feed.end();
    expect((await client.frames(1))[0]!.packet.length).toBe(13);
    await feed.closed;
    feed.writeRtp(0, false, 111, 2, 2, 1, Buffer.from([1]));
    expect(feed.dropped).toBe(1);
  });

  it('drops (and counts) packets instead of queueing without bound when the reader stalls', async () => {
    const feed = await listen(1, 64 * 1024);
    const client = await Client.open(feed.url);
    await client.play(feed.url);
    client.socket.pause(); // ffmpeg stuck on a full disk
    const payload = Buffer.alloc(1000);
    for (let round = 0; round < 200 && feed.dropped === 0; round++) {
      for (let i = 0; i < 100; i++) feed.writeRtp(0, false, 111, i, i, 1, payload);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(feed.dropped).toBeGreaterThan(0);
    client.socket.destroy();
  });
});

describe('parseRequest', () => {
  it('parses the request line and lower-cases header names', () => {
    const r = parseRequest('SETUP rtsp://h/x/trackID=1 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;interleaved=2-3');
    expect(r?.method).toBe('SETUP');
    expect(r?.url).toBe('rtsp://h/x/trackID=1');
    expect(r?.headers.get('transport')).toBe('RTP/AVP/TCP;interleaved=2-3');
  });
  it('rejects what is not an RTSP/1.0 request', () => {
    expect(parseRequest('GET / HTTP/1.1')).toBeUndefined();
    expect(parseRequest('')).toBeUndefined();
  });
});
