import type { ArgsDef, CommandDef } from "citty";
import type { AnyMode } from "../modes/types.ts";
import { reconcilerCommand } from "./_reconciler-command.ts";
import { serviceCommand } from "./_service-command.ts";

/**
 * The command of a mode, by its kind: a reconciler's bare command is its daemon (`dockernet
 * warp`, `--once`, `status`), a service's daemon is one of its actions (`dockernet flow serve`).
 */
export function modeCommand(mode: AnyMode): CommandDef<ArgsDef> {
  return mode.kind === "reconciler" ? reconcilerCommand(mode) : serviceCommand(mode);
}
