/**
 * A typed registry where plugins publish services for other plugins (the calls manager,
 * the recorder, shared files). Add your own keys by declaration merging on {@link Services}.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Services {}

type Key = keyof Services extends never ? string : keyof Services | string;

/** Lookup of services by name. */
export class ServiceRegistry {
  readonly #services = new Map<string, unknown>();

  /** Publishes a service; a second provider for the same name is an error. */
  provide<K extends keyof Services>(name: K, service: Services[K]): void;
  provide(name: string, service: unknown): void;
  provide(name: string, service: unknown): void {
    if (this.#services.has(name)) throw new Error(`service '${name}' is already provided by another plugin`);
    this.#services.set(name, service);
  }

  /** The service, or undefined when no plugin provides it. */
  get<K extends keyof Services>(name: K): Services[K] | undefined;
  get<T = unknown>(name: string): T | undefined;
  get(name: Key): unknown {
    return this.#services.get(name as string);
  }

  /** The service, or a clear error naming the plugin to add. */
  require<K extends keyof Services>(name: K, hint?: string): Services[K];
  require<T = unknown>(name: string, hint?: string): T;
  require(name: string, hint?: string): unknown {
    const service = this.#services.get(name);
    if (service === undefined) throw new Error(`service '${name}' is not available${hint ? `: ${hint}` : ''}`);
    return service;
  }

  /** Removes a service (when its plugin is torn down). */
  remove(name: string): void {
    this.#services.delete(name);
  }
}
