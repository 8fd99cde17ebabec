import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { settle } from './client.js';
import { f, useServer } from './setup.js';

const env = useServer();

// 1×1 transparent PNG.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

describe('buddy pictures', () => {
  it('rewrites a data URL to img:<id>/<change>/picture.png, serves it, and deletes it on disconnect', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    const b = await env.connect(server);
    await a.hello('pics');
    await b.hello('pics');
    b.send(f.status({ displayName: 'B', buddyPicture: `data:image/png;base64,${PNG}` }));
    const status = await a.nextOfType('Status');
    const picture: string = status.Data.Status.buddyPicture;
    expect(picture).toMatch(/^img:[A-Za-z0-9_=-]{20}\/[A-Za-z0-9_=-]+\/picture\.png$/);
    const url = `${server.httpUrl}static/img/buddy/s46/${picture.slice(4)}`;
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from(PNG, 'base64'));
    // Same picture again: same path; other values pass through unchanged.
    b.send(f.status({ displayName: 'B', buddyPicture: `data:image/png;base64,${PNG}` }));
    expect((await a.nextOfType('Status')).Data.Status.buddyPicture).toBe(picture);
    b.send(f.status({ displayName: 'B', buddyPicture: 'https://example.invalid/x.png' }));
    expect((await a.nextOfType('Status')).Data.Status.buddyPicture).toBe('https://example.invalid/x.png');
    b.close();
    await a.nextOfType('Left');
    expect((await fetch(url)).status).toBe(404);
  });
});

describe('logging', () => {
  it('writes one debug line per dropped frame', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...chunk.toString().trim().split('\n'));
        done();
      },
    });
    const server = await env.start({ logger: pino({ level: 'debug' }, sink) });
    const a = await env.connect(server);
    a.send('{not json');
    a.send('{"Type":"Unknown"}');
    await a.sync();
    const drops = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'dropped client frame');
    expect(drops.map((l) => l.reason)).toEqual(['malformed JSON', 'unknown frame type "Unknown"']);
    expect(drops.every((l) => l.level === 20)).toBe(true);
  });
});

describe('payload-less requests', () => {
  it('ignores whatever is in Self, Users and Leave, like the Go decoder', async () => {
    const server = await env.start();
    const a = await env.connect(server);
    const b = await env.connect(server);
    expect((await a.request({ Type: 'Self', Self: 'anything' })).Data.Type).toBe('Self');
    await a.hello('payloads');
    await b.hello('payloads');
    await a.nextOfType('Joined');
    expect((await a.request({ Type: 'Users', Users: 5 })).Data.Users).toHaveLength(2);
    a.send({ Type: 'Leave', Leave: [1] });
    expect((await b.nextOfType('Left')).Data).toEqual({ Type: 'Left', Id: a.id, Status: 'soft' });
    await settle(a, a);
    expect(a.drain()).toEqual([]);
  });
});
