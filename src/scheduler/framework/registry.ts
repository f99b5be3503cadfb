// Plugin factories by name (upstream's runtime.Registry).
import type { Plugin } from './interfaces.js';

/** Builds a plugin from its pluginConfig args (undefined when the profile gives none). */
export type PluginFactory = (args: unknown) => Plugin;

export class Registry {
  private readonly factories = new Map<string, PluginFactory>();

  constructor(entries: Readonly<Record<string, PluginFactory>> = {}) {
    for (const [name, factory] of Object.entries(entries)) this.register(name, factory);
  }

  register(name: string, factory: PluginFactory): void {
    if (this.factories.has(name)) throw new Error(`a plugin named ${name} already exists`);
    this.factories.set(name, factory);
  }

  unregister(name: string): void {
    if (!this.factories.delete(name)) throw new Error(`no plugin named ${name} exists`);
  }

  get(name: string): PluginFactory | undefined {
    return this.factories.get(name);
  }

  has(name: string): boolean {
    return this.factories.has(name);
  }

  names(): string[] {
    return [...this.factories.keys()];
  }

  /** Another registry's plugins added to this one; a name in both throws. */
  merge(other: Registry): void {
    for (const name of other.names()) this.register(name, other.get(name)!);
  }
}
