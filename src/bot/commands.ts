import type { IncomingChat } from './chat.js';
import { runInScope, type PluginScope } from './isolation.js';

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

/** What a plugin sees of the bot's commands (`ctx.commands`). */
export interface PluginCommands {
  /** Registers a command; returns a function that unregisters it. Removed when the plugin is disabled. */
  register(command: Command): () => void;
  /** The command of that name. */
  get(name: string): Command | undefined;
  /** All commands, sorted by name. */
  list(): Command[];
  /**
   * Runs a command the way the command router does: in the scope of the plugin that registered it,
   * so a failure is logged with that plugin's name. Rejects with {@link CommandFailed}.
   */
  run(command: Command, args: string[], message: IncomingChat): Promise<string | void>;
}

/** A command threw or rejected; `cause` is its error. */
export class CommandFailed extends Error {
  override readonly name = 'CommandFailed';
  constructor(
    readonly command: string,
    cause: unknown,
    /** True when the owning plugin already logged it. */
    readonly reported: boolean,
  ) {
    super(`${command} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Registry of chat commands shared by all plugins of a bot. */
export class CommandRegistry implements PluginCommands {
  readonly #commands = new Map<string, Command>();
  readonly #owners = new Map<string, PluginScope>();

  /** Registers a command (owned by a plugin's scope, if given); returns a function that unregisters it. */
  register(command: Command, owner?: PluginScope): () => void {
    const name = command.name.toLowerCase();
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw new Error(`invalid command name '${command.name}': use letters, digits, - and _`);
    if (this.#commands.has(name)) throw new Error(`command '!${name}' is already registered`);
    this.#commands.set(name, { ...command, name });
    if (owner) this.#owners.set(name, owner);
    return () => {
      if (this.#commands.get(name)?.run !== command.run) return;
      this.#commands.delete(name);
      this.#owners.delete(name);
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

  async run(command: Command, args: string[], message: IncomingChat): Promise<string | void> {
    const owner = this.#owners.get(command.name);
    try {
      return await (owner ? runInScope(owner, () => command.run(args, message)) : command.run(args, message));
    } catch (error) {
      owner?.report(error, 'command', { command: command.name });
      throw new CommandFailed(command.name, error, owner !== undefined);
    }
  }
}

/** Splits `!name a b` into `['name', ['a','b']]`; undefined when the text is not a command. */
export function parseCommand(text: string, prefix = '!'): { name: string; args: string[] } | undefined {
  if (!text.startsWith(prefix)) return undefined;
  const [name, ...args] = text.slice(prefix.length).trim().split(/\s+/);
  if (!name) return undefined;
  return { name: name.toLowerCase(), args };
}
