/**
 * Compiles src/main.ts into one executable with `Bun.build({ compile })`.
 *
 * Two dependencies load code at import time that dockernet only needs in rare cases: docker-modem
 * requires ssh2 (only used for ssh:// Docker hosts), dockerode requires gRPC (only used for
 * BuildKit sessions, which dockernet never opens) and tar-fs (only used to send build contexts). Together they cost about 35 MB of resident
 * memory in a daemon that otherwise needs about 30. The plugin below moves those `require` calls
 * into the functions that use them, so they load on first use; the code is otherwise unchanged.
 * If a dependency update changes the lines, the build fails instead of silently skipping it.
 *
 * flow's page is read from its files when run from source; the second plugin embeds them (and the
 * official Socket.IO browser client) in the binary by replacing the module that reads them.
 *
 * Usage: bun test/support/build-binary.ts [--outfile dist/dockernet] [--target bun-linux-x64]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { BunPlugin } from "bun";
import { readPageFiles } from "../../src/modes/flow/page/files.ts";

const { values } = parseArgs({ options: { outfile: { type: "string", default: "dist/dockernet" }, target: { type: "string" } } });

interface Rewrite {
  file: RegExp;
  edits: [from: string, to: string][];
}

const rewrites: Rewrite[] = [
  {
    file: /docker-modem\/lib\/ssh\.js$/,
    edits: [
      ["var Client = require('ssh2').Client,\n  http = require('http');", "var http = require('http');"],
      ["var conn = new Client();", "var conn = new (require('ssh2').Client)();"],
    ],
  },
  {
    file: /dockerode\/lib\/util\.js$/,
    edits: [
      ["var DockerIgnore = require('@balena/dockerignore');", "var DockerIgnore = function (o) { return require('@balena/dockerignore')(o); };"],
      ["var tar = require('tar-fs');", "var tar = { pack: function (a, b) { return require('tar-fs').pack(a, b); } };"],
    ],
  },
  {
    file: /dockerode\/lib\/session\.js$/,
    edits: [
      ['var grpc = require("@grpc/grpc-js"),\n  protoLoader = require("@grpc/proto-loader"),\n  path', "var path"],
      ["function withSession(docker, auth, handler) {", 'function withSession(docker, auth, handler) {\n  var grpc = require("@grpc/grpc-js"), protoLoader = require("@grpc/proto-loader");'],
    ],
  },
];

const lazyRequires: BunPlugin = {
  name: "lazy-requires",
  setup(build) {
    for (const rewrite of rewrites) {
      build.onLoad({ filter: rewrite.file }, (args) => {
        let contents = readFileSync(args.path, "utf8").replace(/\r\n/g, "\n");
        for (const [from, to] of rewrite.edits) {
          if (!contents.includes(from)) throw new Error(`build-binary: ${args.path} changed; cannot find ${JSON.stringify(from)}`);
          contents = contents.replace(from, to);
        }
        return { contents, loader: "js" };
      });
    }
  },
};

let pageEmbedded = false;
const embedFlowPage: BunPlugin = {
  name: "embed-flow-page",
  setup(build) {
    build.onLoad({ filter: /src\/modes\/flow\/page\/files\.ts$/ }, async () => {
      const files = await readPageFiles();
      pageEmbedded = true;
      // The same export, its files as string literals.
      return { contents: `export async function readPageFiles() { return ${JSON.stringify(files)}; }\n`, loader: "js" };
    });
  },
};

const result = await Bun.build({
  entrypoints: ["src/main.ts"],
  compile: {
    outfile: values.outfile,
    ...(values.target ? { target: values.target as "bun-linux-x64" } : {}),
    // A standalone bun executable reads bunfig.toml (whose `preload` runs code), .env, package.json
    // and tsconfig.json from the directory it is started in, by default. dockernet runs as root, from
    // cron, a shell in a compose project (which often has a .env), or Docker's runtime call: only its
    // own config, environment and flags may decide what it does.
    autoloadBunfig: false,
    autoloadDotenv: false,
    autoloadPackageJson: false,
    autoloadTsconfig: false,
  },
  minify: true,
  bytecode: true,
  plugins: [lazyRequires, embedFlowPage],
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exitCode = 1;
} else if (!pageEmbedded) {
  // A binary that would look for the page in a source tree it does not have.
  console.error("build-binary: flow's page files were not embedded (src/modes/flow/page/files.ts moved?)");
  process.exitCode = 1;
} else {
  console.log(`built ${values.outfile}`);
}
