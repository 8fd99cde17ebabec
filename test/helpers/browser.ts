/**
 * Vitest glue for the Chromium harness in ./chromium.ts (which has no vitest import, so
 * benchmarks can use it too).
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { BrowserHarness } from './chromium.js';

export * from './chromium.js';

/**
 * Registers hooks in the current describe: one Chromium for the whole file (beforeAll/afterAll),
 * pages closed after each test, and page console output printed when a test failed.
 * Returns a getter because the browser only exists once beforeAll ran.
 */
export function useBrowser(extraArgs: string[] = []): () => BrowserHarness {
  let harness: BrowserHarness | undefined;
  beforeAll(async () => {
    harness = await BrowserHarness.launch(extraArgs);
  });
  afterEach(async (ctx) => {
    if (!harness) return;
    if (ctx.task.result?.state === 'fail') console.log(`page logs for "${ctx.task.name}":\n${harness.logs()}`);
    await harness.closePages();
  });
  afterAll(async () => {
    await harness?.close();
  });
  return () => {
    if (!harness) throw new Error('browser not launched: call useBrowser() inside describe and use it in tests');
    return harness;
  };
}
