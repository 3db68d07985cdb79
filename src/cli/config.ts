import { defineCommand } from "citty";
import { globalFlagValues } from "../config/globals.ts";
import { DockernetError } from "../core/errors.ts";
import { renderResolved, renderResolvedJson } from "../config/render.ts";
import { configSpec, loadConfig } from "../modes/config.ts";
import { globalArgs } from "./_args.ts";
import { withHelp } from "./_help.ts";

const validate = defineCommand({
  meta: {
    name: "validate",
    description: "Check the config (file, DOCKERNET_* env, flags) without starting anything; print every key with its source",
  },
  args: {
    ...globalArgs,
    json: { type: "boolean", description: "Print the resolved config as one JSON object" },
  },
  async run({ args }) {
    const resolved = await loadConfig({ file: args.config, flags: globalFlagValues(args) }).catch((error: unknown) => {
      // A script reading --json gets the problems on stdout too; the error still goes to stderr, exit 2.
      if (args.json && error instanceof DockernetError) {
        process.stdout.write(`${JSON.stringify({ ok: false, code: error.code, problems: error.details.length > 0 ? error.details : [error.message], ...(error.hint ? { hint: error.hint } : {}) }, null, 2)}\n`);
      }
      throw error;
    });
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ ok: true, ...renderResolvedJson(configSpec, resolved) }, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${renderResolved(configSpec, resolved)}\nconfig OK\n`);
  },
});

const config = defineCommand({
  meta: {
    name: "config",
    description: "Inspect the configuration: TOML file, DOCKERNET_<SECTION>_<KEY> env, flags (flag > env > file > default)",
  },
  subCommands: {
    validate: withHelp(validate, {
      details: ["Exit code 2 and one line per problem if anything is wrong."],
      examples: [
        "dockernet config validate --config /etc/dockernet/config.toml",
        "DOCKERNET_WARP_ROUTES=10.0.0.0/8 dockernet config validate",
        "dockernet config validate --json",
      ],
    }),
  },
});

export default withHelp(config, { examples: ["dockernet config validate --config /etc/dockernet/config.toml", "dockernet config validate --json"] });
