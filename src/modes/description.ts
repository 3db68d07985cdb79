/**
 * What a mode is, without how it runs: the part of its description that help, config and the
 * systemd units are made from. It names no runtime context, so `src/service/` reads modes
 * without reaching the Docker client, even as types (the entry points are in types.ts).
 */
import type { ConfigSection, SectionSchema } from "../config/spec.ts";

/** A flag of a mode's command that sets a key of its config section (`--container-name` sets `join.container_name`). */
export interface ModeFlag {
  /** The key of the mode's section the flag sets. */
  key: string;
  type: "string" | "boolean";
  description: string;
  valueHint?: string;
  /** The subcommands that read it (`["serve"]` for flow's `--socket-dir`); absent: every one. Help shows a flag only where it is used. */
  for?: readonly string[];
}

/** What every kind of mode declares. */
interface DescriptionBase<Name extends string, S extends SectionSchema> {
  name: Name;
  /** One line, for the root `--help` and the unit's Description=. */
  summary: string;
  /** More lines for the mode's own `--help`, under the summary. */
  details?: string[];
  /** Example command lines for the mode's own `--help`, with a `# comment` each. */
  examples: string[];
  /** Its `[<name>]` config section: schema and defaults. */
  config: ConfigSection<S>;
  /** `DOCKERNET_*` environment variables of its own that are not config keys. */
  otherVariables?: readonly string[];
  /** Flags of its command (and of `dockernet run`), each setting one key of its section. */
  flags: Record<string, ModeFlag>;
  /** Why `service install` does not offer it (a per-user process such as the bridge); absent: it does. */
  notAService?: string;
  /** Whether it works on the local engine (checked to answer before it starts); default true. The bridge does not. */
  localDocker?: boolean;
  /** The Linux capabilities its systemd unit keeps, and why (a comment in the unit). */
  capabilities: { names: readonly string[]; why: string };
  /** Paths its systemd unit may write (the rest of the file system is read-only), and why. */
  writes?: { paths: readonly string[]; why: string };
}

/**
 * A level-triggered reconciler (warp, join): the bare command is the daemon (`dockernet warp`),
 * `--once` reconciles once (so it can run from a timer), and it may have `--dry-run`, `status`
 * and actions of its own (`dockernet warp runtime install`).
 */
export interface ReconcilerDescription<Name extends string = string, S extends SectionSchema = SectionSchema> extends DescriptionBase<Name, S> {
  kind: "reconciler";
}

/**
 * A service (flow, bridge): the daemon is one action (`dockernet flow serve`) beside the others
 * (`flow call`); there is no `--once`.
 */
export interface ServiceDescription<Name extends string = string, S extends SectionSchema = SectionSchema> extends DescriptionBase<Name, S> {
  kind: "service";
  /** The action that runs the daemon: `serve` for `dockernet flow serve`. */
  daemonAction: string;
}

/** Either kind of mode, described. */
export type ModeDescription<Name extends string = string, S extends SectionSchema = SectionSchema> = ReconcilerDescription<Name, S> | ServiceDescription<Name, S>;

/** The words after `dockernet` that run a mode's daemon: `warp`, `flow serve`. */
export function daemonWords(mode: ModeDescription): string[] {
  return mode.kind === "service" ? [mode.name, mode.daemonAction] : [mode.name];
}
