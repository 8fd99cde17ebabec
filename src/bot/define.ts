import type { BotOptions } from './bot.js';

/**
 * What a bot module exports (as its default export) for `spreed-bot run <module>`:
 * the bot's options without the ones the command line or environment may supply.
 */
export type BotDefinition = Partial<Omit<BotOptions, 'plugins' | 'logger' | 'channel'>> &
  Pick<BotOptions, 'plugins'> & { name: string };

/** Declares a bot for `spreed-bot run`. Identity function that gives type checking. */
export function defineBot(definition: BotDefinition): BotDefinition {
  return definition;
}
