/**
 * The page `flow serve` answers `GET /` with: the manager's containers with live state, the
 * activity feed, lifecycle buttons and a send-message form. One self-contained document: the
 * compiled binary has no node_modules to serve `/socket.io/socket.io.js` from, and the page must
 * work without network, so it carries its own small Socket.IO v4 client (Engine.IO v4 over
 * WebSocket only; namespace `/`; text packets only, as the API sends no binary).
 *
 * Data from the server only ever reaches the document through `textContent` and attributes, and
 * the page's Content-Security-Policy admits exactly its own script (by hash), so a container
 * name or message cannot run code.
 */
import { createHash } from "node:crypto";
import { activityScript } from "./activity.ts";
import { containersScript } from "./containers.ts";
import { helpersScript } from "./helpers.ts";
import { sendScript } from "./send.ts";
import { socketScript } from "./socket.ts";
import { pageStyle } from "./style.ts";
import { uiCoreScript, uiSettingsScript, uiStartScript } from "./ui.ts";

const body = String.raw`
<header>
  <h1>dockernet <span>flow</span></h1>
  <span id="conn" role="status" aria-live="polite" data-state="disconnected">disconnected</span>
  <form id="token-form" autocomplete="off">
    <input type="text" name="username" autocomplete="username" value="dockernet-flow" hidden>
    <label for="token">API token</label>
    <input id="token" name="token" type="password" size="28" autocomplete="current-password" aria-describedby="token-msg" required>
    <button type="submit" class="primary">Connect</button>
    <button type="button" id="forget">Forget token</button>
  </form>
  <p id="token-msg" role="alert"></p>
</header>
<main>
  <section id="containers" aria-labelledby="containers-title">
    <div class="bar">
      <h2 id="containers-title">Containers</h2>
      <button type="button" id="refresh" disabled>Refresh</button>
    </div>
    <div class="scroll">
    <table id="container-table" class="stale">
      <caption>The containers this manager created, with live state.</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">ID</th><th scope="col">Image</th><th scope="col">State</th><th scope="col">Socket</th><th scope="col">Actions</th></tr></thead>
      <tbody id="container-rows"><tr><td class="empty" colspan="6">Enter the token to see the containers.</td></tr></tbody>
    </table>
    </div>
    <p id="list-msg" class="notice" role="alert"></p>
  </section>
  <section id="send" aria-labelledby="send-title">
    <h2 id="send-title">Send a message</h2>
    <form id="send-form" novalidate>
      <div class="row3">
        <div class="field"><label for="msg-container">Container</label><select id="msg-container" required></select></div>
        <div class="field"><label for="msg-command">Command</label><input id="msg-command" required placeholder="ping" spellcheck="false"></div>
        <div class="field"><label for="msg-timeout">Timeout (ms)</label><input id="msg-timeout" type="number" min="1" max="600000" step="1" placeholder="30000"></div>
      </div>
      <div class="field">
        <label for="msg-data">Data (JSON)</label>
        <textarea id="msg-data" spellcheck="false" aria-describedby="msg-data-err">{}</textarea>
      </div>
      <div class="bar">
        <span id="msg-data-err" class="err" aria-live="polite"></span>
        <button type="submit" class="primary" id="msg-send" disabled>Send</button>
      </div>
    </form>
    <p id="reply-head" aria-live="polite"></p>
    <pre id="reply" tabindex="0" aria-labelledby="reply-head"></pre>
  </section>
  <section id="activity" aria-labelledby="activity-title">
    <div class="bar"><h2 id="activity-title">Activity</h2><span class="hint">newest first, last 200</span></div>
    <p id="feed-empty">Nothing yet.</p>
    <ol id="feed" aria-live="polite" aria-relevant="additions"></ol>
  </section>
</main>
`;

/**
 * The page's script, its parts in the order they run. Plain strings only: no backticks or template
 * holes inside, so the hash below covers exactly what the browser gets. Each part starts and ends
 * with a newline, so joining them leaves one blank line between parts.
 */
const script = [
  uiSettingsScript,
  socketScript,
  helpersScript,
  uiCoreScript,
  containersScript,
  sendScript,
  activityScript,
  uiStartScript,
].join("");

const hash = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

/** Only the page's own script and style run; the socket may go back to where the page came from. */
const policy = [
  "default-src 'none'",
  `script-src ${hash(script)}`,
  `style-src ${hash(pageStyle)}`,
  "connect-src 'self'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${policy}">
<meta name="referrer" content="no-referrer">
<title>dockernet flow</title>
<link rel="icon" href="data:,">
<style>${pageStyle}</style>
</head>
<body>${body}<script type="module">${script}</script>
</body>
</html>
`;

/** The whole page `GET /` serves (text/html; charset=utf-8), the same string on every call. */
export function pageHtml(): string {
  return html;
}

/** The page's Content-Security-Policy, for the server to send as a header as well. */
export function pageContentSecurityPolicy(): string {
  return policy;
}
