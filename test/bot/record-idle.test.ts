import { describe, expect, it } from 'vitest';
import { IdlePolicy } from '../../src/bot/plugins/record-idle.js';

describe('record plugin idle policy', () => {
  it('stops after emptyMs with nobody to record, and a participant coming back resets it', () => {
    const policy = new IdlePolicy({ emptyMs: 30_000, silentMs: 300_000 });
    policy.reset(0);
    expect(policy.check({ empty: true, packetsReceived: 1 }, 1_000)).toBeUndefined();
    expect(policy.check({ empty: false, packetsReceived: 2 }, 20_000)).toBeUndefined();
    expect(policy.check({ empty: true, packetsReceived: 3 }, 25_000)).toBeUndefined();
    expect(policy.check({ empty: true, packetsReceived: 3 }, 54_000)).toBeUndefined();
    expect(policy.check({ empty: true, packetsReceived: 3 }, 55_000)).toBe('empty');
  });

  it('stops after silentMs without a new packet, counted from the start', () => {
    const policy = new IdlePolicy({ emptyMs: 30_000, silentMs: 10_000 });
    policy.reset(0);
    expect(policy.check({ empty: false, packetsReceived: 0 }, 9_999)).toBeUndefined();
    expect(policy.check({ empty: false, packetsReceived: 0 }, 10_000)).toBe('silent');
    expect(policy.check({ empty: false, packetsReceived: 5 }, 12_000)).toBeUndefined();
    expect(policy.check({ empty: false, packetsReceived: 5 }, 21_999)).toBeUndefined();
    expect(policy.check({ empty: false, packetsReceived: 5 }, 22_000)).toBe('silent');
  });
});
