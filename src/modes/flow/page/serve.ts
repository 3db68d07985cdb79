/**
 * Serves the page: `GET /` answers the document with a nonce of its own in its
 * Content-Security-Policy, so only the page's stylesheet and scripts (served under `/page/`, and
 * named with that nonce) run; nothing comes from elsewhere, and the page talks only to this server.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PageFiles } from "./files.ts";

/** The page's Content-Security-Policy for one response. */
export function pagePolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

const common = { "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "cache-control": "no-store" };

/** Answers the page's requests (true) and leaves every other one to the caller (false). */
export type PageHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

/** The handler for the page made of `files`. */
export function pageHandler(files: PageFiles): PageHandler {
  const javascript = "text/javascript; charset=utf-8";
  const assets = new Map([
    ["/page/page.css", { type: "text/css; charset=utf-8", body: files.css }],
    ["/page/page.js", { type: javascript, body: files.js }],
    ["/page/socket.io.min.js", { type: javascript, body: files.socketIo }],
  ]);
  return (request, response) => {
    if (request.method !== "GET" && request.method !== "HEAD") return false;
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    const head = request.method === "HEAD";
    if (path === "/") {
      // Per response: a nonce an attacker could read from an earlier page is no use on this one.
      const nonce = randomBytes(16).toString("base64");
      const headers = { ...common, "content-type": "text/html; charset=utf-8", "content-security-policy": pagePolicy(nonce) };
      response.writeHead(200, headers).end(head ? undefined : files.html.replaceAll("{{nonce}}", nonce));
      return true;
    }
    const asset = assets.get(path);
    if (!asset) return false;
    response.writeHead(200, { ...common, "content-type": asset.type }).end(head ? undefined : asset.body);
    return true;
  };
}
