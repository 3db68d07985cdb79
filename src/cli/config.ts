import { defineCommand } from "citty";
import { globalFlagValues } from "../config/globals.ts";
import { loadConfig } from "../config/load.ts";
import { renderResolved, renderResolvedJson } from "../config/render.ts";
import { globalArgs } from "./_args.ts";

const validate = defineCommand({
  meta: {
    name: "validate",
    description: [
      "Check the config (file, DOCKERNET_* env, flags) without starting anything, and print every key with its source.",
      "Exit code 2 and one line per problem if anything is wrong.",
      "",
      "Examples:",
      "  dockernet config validate --config /etc/dockernet/config.toml",
      "  DOCKERNET_WARP_ROUTES=10.0.0.0/8 dockernet config validate",
      "  dockernet config validate --json",
    ].join("\n"),
  },
  args: {
    ...globalArgs,
    json: { type: "boolean", description: "Print the resolved config as one JSON object" },
  },
  async run({ args }) {
    const resolved = await loadConfig({ file: args.config, flags: globalFlagValues(args) });
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ ok: true, ...renderResolvedJson(resolved) }, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${renderResolved(resolved)}\nconfig OK\n`);
  },
});

export default defineCommand({
  meta: {
    name: "config",
    description: [
      "Inspect the configuration: TOML file, DOCKERNET_<SECTION>_<KEY> env, flags (flag > env > file > default).",
      "",
      "Examples:",
      "  dockernet config validate --config /etc/dockernet/config.toml",
      "  dockernet config validate --json",
    ].join("\n"),
  },
  subCommands: { validate },
});
