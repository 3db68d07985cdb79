/**
 * The page's files as `flow serve` answers them, without Docker: a nonce of each response's own
 * admits exactly the page's stylesheet and scripts, which are served beside it (the Socket.IO
 * client as the package publishes it), and the script passes the type checker as browser code.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { readPageFiles } from "../../src/modes/flow/page/files.ts";
import { pageHandler } from "../../src/modes/flow/page/serve.ts";
import { exec } from "../support/_exec.ts";
import { repoRoot } from "../support/dockernet.ts";

let server: Server;
let base = "";

beforeAll(async () => {
  const handle = pageHandler(await readPageFiles());
  server = createServer((request, response) => {
    if (!handle(request, response)) response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("the flow page's files", () => {
  test("GET /: a nonce per response, in the policy and on every script and stylesheet, and nothing else admitted", async () => {
    const [first, second] = await Promise.all([fetch(`${base}/`), fetch(`${base}/`)]);
    const nonces = [];
    for (const response of [first, second]) {
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const policy = response.headers.get("content-security-policy") ?? "";
      const nonce = /script-src 'nonce-([^']+)'/.exec(policy)?.[1] ?? "";
      expect(policy).toBe(
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      );
      const html = await response.text();
      expect(html).not.toContain("{{nonce}}");
      // Every script and stylesheet carries this response's nonce and comes from /page/.
      const tags = html.match(/<(script|link rel="stylesheet")[^>]*>/g) ?? [];
      expect(tags).toHaveLength(3);
      for (const tag of tags) {
        expect(tag).toContain(`nonce="${nonce}"`);
        expect(tag).toMatch(/ (src|href)="\/page\/[a-z.]+"/);
      }
      expect(html).not.toMatch(/https?:\/\//);
      nonces.push(nonce);
    }
    expect(nonces[0]).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(nonces[0]).not.toBe(nonces[1]);
  });

  test("its stylesheet, its module and the official Socket.IO client, each with its type", async () => {
    const socketIo = await readFile(join(repoRoot, "node_modules/socket.io-client/dist/socket.io.min.js"), "utf8");
    const expected: Record<string, [type: string, body: string]> = {
      "/page/page.css": ["text/css; charset=utf-8", await readFile(join(repoRoot, "src/modes/flow/page/page.css"), "utf8")],
      "/page/page.js": ["text/javascript; charset=utf-8", await readFile(join(repoRoot, "src/modes/flow/page/page.js"), "utf8")],
      "/page/socket.io.min.js": ["text/javascript; charset=utf-8", socketIo],
    };
    for (const [path, [type, body]] of Object.entries(expected)) {
      const response = await fetch(`${base}${path}`);
      expect(response.headers.get("content-type")).toBe(type);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(await response.text()).toBe(body);
    }
    expect(socketIo).toContain("engine.io");
  });

  test("anything else is left to the server (Socket.IO, the 404)", async () => {
    for (const path of ["/page/", "/page/index.html", "/page/files.ts", "/socket.io/", "/favicon.ico"]) expect((await fetch(`${base}${path}`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: "POST" })).status).toBe(404);
    const head = await fetch(`${base}/page/page.js`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  test("page.js type-checks as browser code (tsc -p src/modes/flow/page)", async () => {
    const tsc = await exec(join(repoRoot, "node_modules/.bin/tsc"), ["-p", join(repoRoot, "src/modes/flow/page")], { allowFail: true, timeoutMs: 120_000 });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.code).toBe(0);
  }, 120_000); // tsc takes seconds on a loaded machine: more than bun's default 5 s
});
