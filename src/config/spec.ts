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

/**
 * What the loader knows of the config: which sections and keys exist, their schemas and defaults.
 * config/ holds the mechanism; the sections come from the caller (the global ones and one per
 * registered mode), so this folder names no mode.
 */
export class ConfigSpec<T extends ConfigSections = ConfigSections> {
  readonly sections: T;
  /** `DOCKERNET_*` variables that are not config (a mode's own, such as the socket a flow container gets). */
  readonly otherVariables: ReadonlySet<string>;

  constructor(sections: T, options: { otherVariables?: readonly string[] } = {}) {
    this.sections = sections;
    this.otherVariables = new Set(options.otherVariables ?? []);
  }

  /** Section names, in the order given. */
  get names(): string[] {
    return Object.keys(this.sections);
  }

  isSection(name: string): boolean {
    return Object.hasOwn(this.sections, name);
  }

  isKey(section: string, key: string): boolean {
    return this.isSection(section) && Object.hasOwn(this.#entries(section), key);
  }

  /** Every `[section, key]`, in the order of the schemas. */
  keys(): [string, string][] {
    return this.names.flatMap((name) => Object.keys(this.#entries(name)).map((key): [string, string] => [name, key]));
  }

  /** The keys of one section, for messages. */
  keysOf(section: string): string[] {
    return Object.keys(this.#entries(section));
  }

  schemaOf(section: string, key: string): v.GenericSchema | undefined {
    return this.isKey(section, key) ? (this.#entries(section)[key] as v.GenericSchema) : undefined;
  }

  defaultOf(section: string, key: string): unknown {
    return (this.sections[section]?.defaults as Record<string, unknown> | undefined)?.[key];
  }

  /** A fresh copy of every default. */
  defaults(): ConfigOf<T> {
    return structuredClone(Object.fromEntries(this.names.map((name) => [name, this.sections[name]?.defaults]))) as ConfigOf<T>;
  }

  #entries(section: string): v.ObjectEntries {
    return this.sections[section]?.schema.entries ?? {};
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
