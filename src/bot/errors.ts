import { CodedError } from '../util/errors.js';

/** A configuration problem, naming the bad field or path. `spreed-bot run` exits 2 on it. */
export class ConfigError extends CodedError<'config_invalid'> {
  override readonly name: string = 'ConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('config_invalid', message, options);
  }
}

/** One invalid option of a plugin: where (`dir`, `policy.bytes`) and what is wrong. */
export interface PluginOptionIssue {
  /** Dotted path inside the plugin's options; `''` for the options object itself. */
  readonly path: string;
  readonly message: string;
}

/**
 * A built-in plugin was given invalid options. The message names the plugin and every bad field
 * (`record.options.dir: expected string, received number`); a config file loader prefixes it with
 * where the plugin is configured.
 */
export class PluginOptionsError extends ConfigError {
  override readonly name = 'PluginOptionsError';
  constructor(
    /** The plugin's name (`record`). */
    readonly plugin: string,
    readonly issues: readonly PluginOptionIssue[],
  ) {
    super(issues.map((issue) => `${plugin}.${describeIssue(issue)}`).join('; '));
  }

  /** The issues as `options.<path>: <message>` joined by `; `, for a caller that names the plugin itself. */
  get detail(): string {
    return this.issues.map(describeIssue).join('; ');
  }
}

function describeIssue(issue: PluginOptionIssue): string {
  return `options${issue.path ? `.${issue.path}` : ''}: ${issue.message}`;
}
