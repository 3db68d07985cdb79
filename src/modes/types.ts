/**
 * What a mode is: one description (`modes/<mode>/mode.ts`) that `run`, `service`, `config`, the
 * root `--help` and the command map read through the registry. A description is light to load:
 * its entry points import the mode's working code only when called, so `dockernet --version`
 * loads no Docker, SSH or Socket.IO code.
 */
import type * as v from "valibot";
import type { SectionSchema } from "../config/spec.ts";
import type { LogFields, Logger } from "../core/logger.ts";
import type { Metrics } from "../core/metrics.ts";
import type { ModeTelemetry } from "../core/telemetry.ts";
import type { DockerClient } from "../docker/client.ts";
import type { EventHandler } from "../docker/event-bus.ts";
import type { ReconcilerDescription, ServiceDescription } from "./description.ts";

export type { ModeDescription, ModeFlag, ReconcilerDescription, ServiceDescription } from "./description.ts";

/** What every entry point of a mode gets: the local engine, the mode's own config section, its logger. */
export interface ModeContext<C> {
  client: DockerClient;
  config: C;
  log: Logger;
}

/** What a mode gets when it runs as a daemon, beside its ModeContext. */
export interface DaemonContext<C> extends ModeContext<C> {
  /**
   * Subscribes `handler` to the events stream of an engine (the local one unless `client` names
   * another). Each engine has one stream per process, shared by every mode that watches it.
   * Resolves once the stream is open, so a scan made afterwards misses nothing. Returns the
   * unsubscribe function.
   */
  watch(handler: EventHandler, client?: DockerClient): Promise<() => void>;
  /**
   * For errors the mode cannot carry on after (fail-fast): every mode is stopped and the command
   * exits 1, so the service manager restarts it with a clean scan.
   */
  fail(error: unknown): void;
  /** Stops every mode cleanly (exit 0), as SIGTERM would: `bridge stop` asks the running bridge so. */
  shutdown(): void;
  /** Where the mode reports reconciles and changes (/metrics). */
  telemetry: ModeTelemetry;
  /** The process's metrics registry, for the mode's own series. */
  metrics: Metrics;
}

/** A mode running as a daemon. */
export interface RunningMode {
  stop(): Promise<void>;
  /** Why the mode is unhealthy right now (for /healthz), or undefined. */
  health(): string | undefined;
}

/** A flag or positional of a mode's action that is not config (`flow call`'s request name, `--file`). */
export interface ActionArg {
  type: "string" | "boolean" | "positional";
  description: string;
  valueHint?: string;
  required?: boolean;
}

/** What an action gets: its mode's context without a Docker client unless it asked for one. */
export interface ActionContext<C> {
  config: C;
  log: Logger;
  /** The local engine, when the action has `docker: true`. */
  client?: DockerClient;
  /** Values of the action's own args, by name. */
  args: Record<string, string | boolean | undefined>;
  /** The words after `--` (`flow agent -- CMD ARGS...`). */
  rest: string[];
  /** What chose the engine and the config, when the user did (a flag, env or a file), for actions that write it down. */
  globals: { dockerHost?: string; configFile?: string };
}

/** A subcommand of a mode beside its daemon: `dockernet flow call`, `dockernet flow agent`. */
export interface ModeAction<C> {
  summary: string;
  details?: string[];
  examples: string[];
  /** Whether it talks to the local Docker engine (then the engine must answer first). */
  docker: boolean;
  /**
   * Takes `--docker-host` without talking to the engine: `warp runtime install` writes it into the
   * runtime's entry, for the runtime to use when Docker calls it.
   */
  recordsDockerHost?: boolean;
  /**
   * Runs for as long as a stream lasts, relaying it (the flow agent, `flow watch`): it runs with
   * JavaScriptCore's normal JIT policy, whose compiled loops repay themselves (see reluctantJitPolicy).
   */
  relaysStreams?: boolean;
  /** Its own args; config-setting flags come from the mode's `flags`, which every action takes too. */
  args: Record<string, ActionArg>;
  /** Runs it; resolves with the exit code. */
  run(context: ActionContext<C>): Promise<number>;
}

/** The outcome of `<mode> --once`. */
export interface OnceResult {
  /** 0 when everything is as planned, 1 otherwise. */
  exitCode: 0 | 1;
  /** One line per thing not as planned. */
  failures: string[];
  /** Fields of the closing `reconciled once` log line. */
  summary: LogFields;
}

/** What both kinds run: the daemon, and actions beside it. `C` is the mode's config type. */
interface Runs<C> {
  /**
   * What the daemon refuses at start from its config alone (unwritable paths, a bad address),
   * checked before the engine is asked and before anything is made or logged as started.
   */
  check?(config: C): Promise<void>;
  /** Starts the long-running form; resolves once the mode serves. */
  daemon(context: DaemonContext<C>): Promise<RunningMode>;
  /** Subcommands beside the daemon (and a reconciler's `status`). */
  actions?: Record<string, ModeAction<C>>;
}

/** A reconciler, described once (see ReconcilerDescription). `S` is the schema of its config section. */
export interface ReconcilerDefinition<Name extends string = string, S extends SectionSchema = SectionSchema> extends ReconcilerDescription<Name, S>, Runs<v.InferOutput<S>> {
  /** `--once`: one reconcile, for cron and timers. */
  once(context: ModeContext<v.InferOutput<S>>): Promise<OnceResult>;
  /** `--once --dry-run`: the plan as text, changing nothing. */
  dryRun?(context: ModeContext<v.InferOutput<S>>): Promise<{ text: string; exitCode: 0 | 1 }>;
  /** `<mode> status [--json]`: what is in force, as text or JSON. */
  status?: {
    /** Help text of the `status` action and of `--json`. */
    help: string;
    json: string;
    show(context: ModeContext<v.InferOutput<S>>, options: { json: boolean }): Promise<string>;
  };
}

/** A service, described once (see ServiceDescription). `S` is the schema of its config section. */
export interface ServiceDefinition<Name extends string = string, S extends SectionSchema = SectionSchema> extends ServiceDescription<Name, S>, Runs<v.InferOutput<S>> {
  /**
   * `--detach` for the daemon action: it is started again in the background, its output in
   * `logFile`, and the command returns once `ready` says the daemon serves.
   */
  detach?: {
    logFile(config: v.InferOutput<S>): string;
    /** Whether the daemon with this PID serves. */
    ready(config: v.InferOutput<S>, pid: number): Promise<boolean>;
    /** How long starting may take (default 60 s). */
    timeoutMs?(config: v.InferOutput<S>): number;
  };
}

/** One mode, described once: a reconciler or a service. */
export type ModeDefinition<Name extends string = string, S extends SectionSchema = SectionSchema> = ReconcilerDefinition<Name, S> | ServiceDefinition<Name, S>;

/** Any registered mode, as generic code (run, service, help) handles it; its config type is only passed through. */
export type AnyMode = ModeDefinition<string, any>;

/** Declares a mode; only checks its description against the type. */
export function defineMode<const Name extends string, S extends SectionSchema>(mode: ModeDefinition<Name, S>): ModeDefinition<Name, S> {
  return mode;
}
