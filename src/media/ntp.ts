/** Seconds between 1900-01-01 (NTP epoch) and 1970-01-01 (Unix epoch). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;

/** Converts a 64-bit NTP timestamp (32.32 fixed point) to Unix milliseconds. Pure. */
export function ntpToUnixMs(ntp: bigint): number {
  const seconds = Number(ntp >> 32n);
  const fraction = Number(ntp & 0xffffffffn);
  return (seconds - NTP_UNIX_OFFSET_S) * 1000 + (fraction / 2 ** 32) * 1000;
}

/** Converts Unix milliseconds to a 64-bit NTP timestamp. Pure. */
export function unixMsToNtp(ms: number): bigint {
  const seconds = Math.floor(ms / 1000) + NTP_UNIX_OFFSET_S;
  const fraction = Math.round(((ms % 1000) / 1000) * 2 ** 32);
  return (BigInt(seconds) << 32n) + BigInt(Math.min(fraction, 0xffffffff));
}

/**
 * Wall-clock time of an RTP timestamp, given a sender report mapping of the same stream. Pure.
 * Handles 32-bit wrap between the two timestamps.
 */
export function rtpToUnixMs(rtpTimestamp: number, report: { ntpTime: bigint; rtpTimestamp: number }, clockRate: number): number {
  const delta = ((rtpTimestamp - report.rtpTimestamp) | 0) / clockRate; // signed 32-bit difference
  return ntpToUnixMs(report.ntpTime) + delta * 1000;
}
