/**
 * The page's files: its HTML, stylesheet and script from this folder, and the official Socket.IO
 * browser client from the socket.io-client package. Read from the source tree when dockernet runs
 * from source (bun or Deno); the build (test/support/build-binary.ts) replaces this module with one
 * whose `readPageFiles` returns the same files embedded, so the binary needs no node_modules.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The files `GET /` and `/page/*` serve. */
export interface PageFiles {
  /** The document; `{{nonce}}` marks where each response's nonce goes. */
  html: string;
  css: string;
  /** The page's module (`page.js`). */
  js: string;
  /** `socket.io-client/dist/socket.io.min.js`, as published. */
  socketIo: string;
}

/** Reads the page's files. */
export async function readPageFiles(): Promise<PageFiles> {
  const here = (name: string) => readFile(new URL(name, import.meta.url), "utf8");
  // The package's own directory, wherever node_modules put it.
  const client = dirname(createRequire(import.meta.url).resolve("socket.io-client/package.json"));
  const [html, css, js, socketIo] = await Promise.all([here("./index.html"), here("./page.css"), here("./page.js"), readFile(join(client, "dist/socket.io.min.js"), "utf8")]);
  return { html, css, js, socketIo };
}
