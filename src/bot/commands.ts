import type { IncomingChat } from './chat.js';

/** A chat command such as `!status`. */
export interface Command {
  /** Name without the prefix, lower case (`status` for `!status`). */
  readonly name: string;
  /** One-line help shown by `!help`. */
  readonly help: string;
  /** Usage after the name, e.g. `start|stop|status`. */
  readonly usage?: string;
  /**
   * Runs the command. Returning a string replies with it (privately for private messages,
   * to the room for group messages).
   */
  run(args: string[], message: IncomingChat): string | void | Promise<string | void>;
}

/** Registry of chat commands shared by all plugins of a bot. */
export class CommandRegistry {
  readonly #commands = new Map<string, Command>();

  /** Registers a command; returns a function that unregisters it. */
  register(command: Command): () => void {
    const name = command.name.toLowerCase();
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw new Error(`invalid command name '${command.name}': use letters, digits, - and _`);
    if (this.#commands.has(name)) throw new Error(`command '!${name}' is already registered`);
    this.#commands.set(name, { ...command, name });
    return () => {
      if (this.#commands.get(name)?.run === command.run) this.#commands.delete(name);
    };
  }

  /** The command of that name. */
  get(name: string): Command | undefined {
    return this.#commands.get(name.toLowerCase());
  }

  /** All commands, sorted by name. */
  list(): Command[] {
    return [...this.#commands.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}

/** Splits `!name a b` into `['name', ['a','b']]`; undefined when the text is not a command. */
export function parseCommand(text: string, prefix = '!'): { name: string; args: string[] } | undefined {
  if (!text.startsWith(prefix)) return undefined;
  const [name, ...args] = text.slice(prefix.length).trim().split(/\s+/);
  if (!name) return undefined;
  return { name: name.toLowerCase(), args };
}
