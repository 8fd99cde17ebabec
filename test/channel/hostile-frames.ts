/* Deterministic hostile frames for the fuzz and fast-path equivalence tests. */

export function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const samples: Record<string, unknown>[] = [
  { Type: 'Self', Id: 'hostile', Sid: 's', Userid: '', Suserid: '', Token: 'tok', Version: 'v', ApiVersion: 1.4, Turn: { username: '', password: '', ttl: 0, urls: null }, Stun: [] },
  { Type: 'Welcome', Room: { Type: 'Room', Name: 'r', Credentials: null }, Users: [{ Type: 'Online', Id: 'a', Ua: 'x', Rev: 1, Prio: 100 }] },
  { Type: 'Joined', Id: 'b', Ua: 'Chrome 156', Prio: 100 },
  { Type: 'Left', Id: 'b', Status: 'hard' },
  { Type: 'Status', Id: 'b', Rev: 2, Prio: 100, Status: { displayName: 'Bob', buddyPicture: null, message: null } },
  { To: '', Type: 'Chat', Chat: { Message: 'hi', Time: '2026-11-25T16:44:05Z', NoEcho: true, Mid: 'm', Status: null } },
  { To: 'a', Type: 'Chat', Chat: { Message: 'File', Status: { FileInfo: { id: 'f', chunks: 4, size: 2, name: 'n', type: 't' } } } },
  { Type: 'Offer', To: 'a', Offer: { sdp: 'v=0', type: 'offer' } },
  { Type: 'Candidate', To: 'a', Candidate: { type: 'candidate', sdpMLineIndex: 0, sdpMid: '0', candidate: 'candidate:1 1 udp 1 127.0.0.1 1 typ host' } },
  { Type: 'Bye', To: 'a', Bye: { Reason: 'reject' } },
  { Id: 'c', Type: 'Conference', Conference: ['a', 'b'] },
  { Type: 'Room', Name: 'r', Credentials: { PIN: '1' } },
  { Type: 'Alive', Alive: 1795624862736 },
  { Type: 'Error', Code: 'bad_request', Message: 'x' },
  { Type: 'Users', Users: [{ Type: 'Online', Id: 'a' }] },
  { Type: 'Sessions', Sessions: { Type: 'session', Token: 't' }, Users: [] },
];

export function hostileFrames(count: number, random: () => number): (string | Buffer)[] {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const weird: unknown[] = [null, true, false, 0, -1, 1e308, -0, NaN, '', 'x'.repeat(5000), [], {}, [[[]]], { Type: 'Self' }, '__proto__', 2 ** 64];
  const randomValue = (depth = 0): unknown => {
    const r = random();
    if (depth > 3 || r < 0.5) return pick(weird);
    if (r < 0.75) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = 0; i < random() * 4; i++) o[pick(['Type', 'Id', 'Data', '__proto__', 'constructor', 'prototype', 'Chat', 'x'])] = randomValue(depth + 1);
    return o;
  };
  const mutate = (doc: Record<string, unknown>): Record<string, unknown> => {
    const copy: Record<string, unknown> = JSON.parse(JSON.stringify(doc));
    const keys = Object.keys(copy);
    const r = random();
    if (r < 0.4) copy[pick(keys)] = randomValue();
    else if (r < 0.6) delete copy[pick(keys)];
    else if (r < 0.8) {
      const inner = copy[pick(keys)];
      if (inner && typeof inner === 'object') (inner as Record<string, unknown>)[pick(Object.keys(inner).concat('x'))] = randomValue();
      else copy.Type = pick(['', 'Hello', 'toString', 'constructor', '__proto__', 'hasOwnProperty', 'Talking', 'Screenshare']);
    } else copy.Type = pick(['', 'Hello', 'toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 7]);
    return copy;
  };
  const out: (string | Buffer)[] = [];
  for (let i = 0; i < count; i++) {
    const r = random();
    if (r < 0.35) out.push(JSON.stringify({ Data: mutate(pick(samples)), From: pick(['a', 1, null, {}]), Iid: pick([undefined, 'sb0', 5, {}]) }));
    else if (r < 0.5) out.push(JSON.stringify(randomValue()));
    else if (r < 0.6) out.push(JSON.stringify({ Data: randomValue(), To: randomValue(), A: randomValue() }));
    else if (r < 0.7) {
      const s = JSON.stringify({ Data: pick(samples), From: 'a' });
      out.push(s.slice(0, Math.floor(random() * s.length)));
    } else if (r < 0.78) out.push(`{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"Data":{"Type":"Chat","To":"","__proto__":{"polluted":1},"Chat":{"Message":"p","__proto__":{"isAdmin":true}}}}`);
    else if (r < 0.83) out.push(`{"Data":${'['.repeat(3000)}${']'.repeat(3000)}}`);
    else if (r < 0.88) out.push(Buffer.from([0xff, 0x00, 0xfe, Math.floor(random() * 255)]));
    else if (r < 0.93) out.push(JSON.stringify({ Data: { ...pick(samples), Id: 'i'.repeat(2000), Message: 'm'.repeat(3000) } }));
    else if (r < 0.96) out.push(Buffer.from([0xc3, 0x28, 0x7b]).toString('latin1') + '{"Data":');
    else out.push(JSON.stringify({ Data: { Type: 'Status', Id: 'b', Rev: -1, Status: 'str' } }));
  }
  // A few frames past the 1 MiB protocol cap.
  for (let i = 0; i < 3; i++) out.push(JSON.stringify({ Data: { Type: 'Chat', To: '', Chat: { Message: 'x'.repeat(1_200_000) } } }));
  return out;
}
