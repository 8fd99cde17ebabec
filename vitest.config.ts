import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores, and most suites run real WebRTC peers, ffmpeg or Chromium: one file at a time
    // keeps them from starving each other (timing-sensitive media would otherwise flake).
    pool: 'forks',
    fileParallelism: false,
    // Real Chromium, werift and ffmpeg on a shared 2-core machine: one retry absorbs a scheduling
    // hiccup; a broken feature still fails both attempts.
    retry: 1,
  },
});
