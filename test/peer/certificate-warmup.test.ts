/**
 * werift creates its DTLS certificate (one per process) on the first peer connection; the call
 * manager makes it when it is created, so the bot's first call or download does not wait for it.
 * Each test file runs in a fresh module graph, so werift starts here without a certificate.
 */
import { RTCDtlsTransport } from 'werift';
import { describe, expect, it } from 'vitest';
import { Hub } from './hub.js';
import { useBots } from './util.js';

const bot = useBots();

describe('DTLS certificate', () => {
  it('exists once a call manager was created, before any call', async () => {
    expect(RTCDtlsTransport.localCertificate).toBeUndefined();
    const manager = bot(new Hub(), 'a');
    await RTCDtlsTransport.localCertificatePromise;
    expect(RTCDtlsTransport.localCertificate?.getFingerprints().length).toBeGreaterThan(0);
    expect(manager.calls.size).toBe(0);
  });
});
