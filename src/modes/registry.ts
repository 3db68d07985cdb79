/**
 * The one list of modes. `dockernet run`, `service install`, `config validate`, the root
 * `--help` and the command map read it; adding a mode is its folder and one line here.
 */
import { bridgeMode } from "./bridge/mode.ts";
import { flowMode } from "./flow/mode.ts";
import { joinMode } from "./join/mode.ts";
import type { AnyMode } from "./types.ts";
import { warpMode } from "./warp/mode.ts";

export const modes = [warpMode, joinMode, flowMode, bridgeMode] as const;

/** The name of a registered mode. */
export type ModeName = (typeof modes)[number]["name"];

/** A registered mode by name; undefined for any other word. */
export function findMode(name: string): AnyMode | undefined {
  return modes.find((mode) => mode.name === name);
}

export const modeNames: readonly ModeName[] = modes.map((mode) => mode.name);
