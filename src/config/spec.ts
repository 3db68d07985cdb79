import type * as v from "valibot";

/** The schema of one `[section]`: a strict object whose entries are its keys. */
export type SectionSchema = v.StrictObjectSchema<v.ObjectEntries, v.ErrorMessage<v.StrictObjectIssue> | undefined>;

/** One config section: its schema and the value of each key when nothing sets it. */
export interface ConfigSection<S extends SectionSchema = SectionSchema> {
  schema: S;
  defaults: v.InferOutput<S>;
}

/** Sections by name, e.g. `{ log: ..., warp: ... }`. */
export type ConfigSections = Record<string, ConfigSection>;

/** The resolved config of some sections: each section's schema output. */
export type ConfigOf<T extends ConfigSections> = { -readonly [K in keyof T]: v.InferOutput<T[K]["schema"]> };

/** A section with its defaults checked against its schema at compile time. */
export function section<S extends SectionSchema>(schema: S, defaults: v.InferOutput<S>): ConfigSection<S> {
  return { schema, defaults };
}

const blocks = new WeakSet<object>();

/**
 * A section inside another, as an entry of its schema: `hetzner: block(hetznerSection)` in
 * `[bridge]` is the TOML table `[bridge.hetzner]`, the variables `DOCKERNET_BRIDGE_HETZNER_<KEY>`,
 * and `config.bridge.hetzner` once resolved (its defaults go in the parent's, under the same name).
 * Returns the block's schema.
 */
export function block<S extends SectionSchema>(inner: ConfigSection<S>): S {
  blocks.add(inner.schema);
  return inner.schema;
}

/** Whether a schema entry is a {@link block}. */
const isBlock = (schema: unknown): schema is SectionSchema => typeof schema === "object" && schema !== null && blocks.has(schema);

/**
 * What the loader knows of the config: which sections and keys exist, their schemas and defaults.
 * config/ holds the mechanism; the sections come from the caller (the global ones and one per
 * registered mode), so this folder names no mode.
 */
export class ConfigSpec<T extends ConfigSections = ConfigSections> {
  readonly sections: T;
  /** `DOCKERNET_*` variables that are not config (a mode's own, such as the socket a flow container gets). */
  readonly otherVariables: ReadonlySet<string>;
  /** Every section by its dotted name, blocks included (`bridge`, `bridge.hetzner`), in order. */
  readonly #schemas = new Map<string, SectionSchema>();

  constructor(sections: T, options: { otherVariables?: readonly string[] } = {}) {
    this.sections = sections;
    this.otherVariables = new Set(options.otherVariables ?? []);
    const add = (name: string, schema: SectionSchema): void => {
      this.#schemas.set(name, schema);
      for (const [key, entry] of Object.entries(schema.entries)) if (isBlock(entry)) add(`${name}.${key}`, entry);
    };
    for (const [name, each] of Object.entries(sections)) add(name, each.schema);
  }

  /** Section names, in the order given, each followed by its blocks (`bridge`, `bridge.hetzner`). */
  get names(): string[] {
    return [...this.#schemas.keys()];
  }

  isSection(name: string): boolean {
    return this.#schemas.has(name);
  }

  isKey(section: string, key: string): boolean {
    return this.isSection(section) && Object.hasOwn(this.#entries(section), key);
  }

  /** The object holding `section`'s keys inside a whole config (or defaults): `config.bridge.hetzner` for `bridge.hetzner`. */
  table(config: Record<string, unknown>, section: string): Record<string, unknown> {
    return section.split(".").reduce<Record<string, unknown>>((table, part) => table[part] as Record<string, unknown>, config);
  }

  /** Every `[section, key]`, in the order of the schemas. */
  keys(): [string, string][] {
    return this.names.flatMap((name) => Object.keys(this.#entries(name)).map((key): [string, string] => [name, key]));
  }

  /** Where a key unknown in `section` is known in one of its blocks (`bridge.hetzner.token`), for messages. */
  blockKeyOf(section: string, key: string): string | undefined {
    const block = this.names.find((name) => name.startsWith(`${section}.`) && this.isKey(name, key));
    return block === undefined ? undefined : `${block}.${key}`;
  }

  /** The keys of one section, for messages. */
  keysOf(section: string): string[] {
    return Object.keys(this.#entries(section));
  }

  schemaOf(section: string, key: string): v.GenericSchema | undefined {
    return this.isKey(section, key) ? (this.#entries(section)[key] as v.GenericSchema) : undefined;
  }

  defaultOf(section: string, key: string): unknown {
    if (!this.isKey(section, key)) return undefined;
    const top = section.split(".")[0] as string;
    return this.table({ [top]: this.sections[top]?.defaults }, section)[key];
  }

  /** A fresh copy of every default. */
  defaults(): ConfigOf<T> {
    return structuredClone(Object.fromEntries(Object.entries(this.sections).map(([name, each]) => [name, each.defaults]))) as ConfigOf<T>;
  }

  /** A section's keys: its schema's entries but its blocks. */
  #entries(section: string): v.ObjectEntries {
    return Object.fromEntries(Object.entries(this.#schemas.get(section)?.entries ?? {}).filter(([, entry]) => !isBlock(entry)));
  }
}

const writers = new WeakMap<object, (value: never) => unknown>();

/**
 * Marks how a value of `schema` is written back into a config file (a duration in ms as `"5m"`,
 * a parsed route rule as its text), for `config validate`. Returns the schema.
 */
export function writtenAs<S extends v.GenericSchema>(schema: S, write: (value: v.InferOutput<S>) => unknown): S {
  writers.set(schema, write as (value: never) => unknown);
  return schema;
}

/** How a value of `schema` is written in a file: its writer, else the value itself. */
export function writeValue(schema: v.GenericSchema | undefined, value: unknown): unknown {
  const write = schema === undefined ? undefined : (writers.get(schema) as ((value: unknown) => unknown) | undefined);
  return write ? write(value) : value;
}

const secrets = new WeakSet<object>();

/** Marks a key's schema as a secret: `config validate` shows whether it is set, never its value. */
export function secret<S extends v.GenericSchema>(schema: S): S {
  secrets.add(schema);
  return schema;
}

/** Whether values of `schema` are secrets. */
export function isSecret(schema: v.GenericSchema | undefined): boolean {
  return schema !== undefined && secrets.has(schema);
}
