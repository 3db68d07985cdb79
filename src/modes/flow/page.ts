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

const style = String.raw`
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --fg: #1c1e21; --muted: #5f6670; --line: #d9dde3;
  --accent: #1f5fbf; --on-accent: #fff; --ok: #1a7f37; --warn: #9a6700; --bad: #c4262e; --idle: #6e7781; --code: #f0f2f5; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #16181c; --card: #1f2228; --fg: #e6e8eb; --muted: #a0a7b1; --line: #353a42;
    --accent: #6ea8fe; --on-accent: #0b1a33; --ok: #4ac26b; --warn: #d4a72c; --bad: #ff6b6b; --idle: #8b949e; --code: #272b32; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
header, main { max-width: 1240px; margin: 0 auto; padding: 0 20px; }
header { display: grid; grid-template-columns: auto auto minmax(0, 1fr); align-items: center; gap: 0 24px; padding-top: 16px; padding-bottom: 14px; }
h1 { font-size: 1.3rem; margin: 0; }
h1 span { color: var(--muted); font-weight: 400; }
h2 { font-size: 1.05rem; margin: 0 0 10px; }
#conn { display: inline-flex; align-items: center; gap: 6px; color: var(--muted); }
#conn::before { content: ""; width: 10px; height: 10px; border-radius: 50%; background: var(--idle); }
#conn[data-state="connected"]::before { background: var(--ok); }
#conn[data-state="connecting"]::before, #conn[data-state="reconnecting"]::before { background: var(--warn); }
#conn[data-state="refused"]::before { background: var(--bad); }
#token-form { display: flex; flex-wrap: wrap; align-items: center; justify-content: flex-end; gap: 8px; }
#token-msg { grid-column: 1 / -1; text-align: right; margin: 0; font-size: .9rem; }
#token-msg:not(:empty) { margin-top: 8px; }
#token-msg.bad { color: var(--bad); font-weight: 600; }
main { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 7fr); gap: 16px; padding-bottom: 24px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
#containers { grid-column: 1 / -1; }
@media (max-width: 900px) {
  main, header { grid-template-columns: minmax(0, 1fr); }
  #token-form { justify-content: flex-start; margin-top: 8px; }
  #token-msg { text-align: left; }
}
.bar { display: flex; align-items: baseline; justify-content: space-between; gap: 12px; }
input, select, textarea, button { font: inherit; color: inherit; }
input, select, textarea { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 5px 8px; }
input:focus-visible, select:focus-visible, textarea:focus-visible, button:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
.field input, .field select, textarea { width: 100%; }
textarea { min-height: 5.5em; resize: vertical; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .88rem; }
[aria-invalid="true"] { border-color: var(--bad); }
button { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; cursor: pointer; }
button:hover:not(:disabled) { border-color: var(--accent); }
button:disabled { opacity: .45; cursor: default; }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--on-accent); }
button.danger:not(:disabled) { color: var(--bad); }
.scroll { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; }
caption { text-align: left; color: var(--muted); font-size: .88rem; padding-bottom: 6px; }
th, td { text-align: left; padding: 7px 8px; border-top: 1px solid var(--line); vertical-align: middle; }
th { font-size: .82rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); border-top: 0; }
td.empty { color: var(--muted); text-align: center; padding: 18px; }
td.actions { white-space: nowrap; }
td.actions div { display: flex; gap: 6px; }
table.stale tbody { opacity: .55; }
.mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .88rem; }
.state { display: inline-block; min-width: 5.5em; padding: 1px 8px; border-radius: 999px; font-size: .85rem; text-align: center;
  border: 1px solid currentColor; color: var(--idle); }
.state.running { color: var(--ok); }
.state.created, .state.restarting, .state.paused, .state.busy { color: var(--warn); }
.state.dead, .state.removing { color: var(--bad); }
td.sock { white-space: nowrap; }
.sock.yes { color: var(--ok); }
.sock.no { color: var(--muted); }
.notice { margin: 0; color: var(--bad); }
.notice:not(:empty) { margin-top: 8px; }
.field { display: grid; gap: 3px; margin-bottom: 10px; }
.field label { font-size: .88rem; font-weight: 600; }
.row3 { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 4fr) minmax(0, 3fr); gap: 10px; }
.hint { color: var(--muted); font-size: .82rem; }
.err { color: var(--bad); font-size: .85rem; min-height: 1.1em; }
#reply-head { margin: 12px 0 4px; font-weight: 600; }
#reply-head.bad { color: var(--bad); }
pre { margin: 0; background: var(--code); border-radius: 6px; padding: 8px 10px; max-height: 16em; overflow: auto;
  font-size: .85rem; white-space: pre-wrap; word-break: break-word; }
pre:empty { display: none; }
#feed { list-style: none; margin: 0; padding: 0; max-height: 26em; overflow: auto; }
#feed li { display: grid; grid-template-columns: 5.2em 7em minmax(0, 1fr); gap: 8px; padding: 5px 2px; border-top: 1px solid var(--line); }
#feed li:first-child { border-top: 0; }
#feed time { color: var(--muted); font-variant-numeric: tabular-nums; font-size: .88rem; }
.kind { font-size: .8rem; font-weight: 600; text-transform: uppercase; letter-spacing: .02em; color: var(--accent); }
.kind.started, .kind.restarted, .kind.created { color: var(--ok); }
.kind.stopped, .kind.updated { color: var(--warn); }
.kind.deleted { color: var(--bad); }
.kind.actor_event, li.docker .what { color: var(--muted); }
.what { overflow-wrap: anywhere; }
.what b { font-weight: 600; margin-right: 6px; }
#feed-empty { color: var(--muted); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

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

/** The page's script. Plain strings only: no backticks or template holes inside. */
const script = String.raw`
"use strict";
const TOKEN_KEY = "dockernet.flow.token";
const FEED_MAX = 200;
const ACTION_TIMEOUT_MS = 60000;

/**
 * A Socket.IO v4 client for namespace "/", over Engine.IO v4 with the websocket transport only.
 * Engine.IO packets (one per frame): 0 open, 1 close, 2 ping, 3 pong, 4 message, 6 noop.
 * Socket.IO packets inside a message: 0 connect, 1 disconnect, 2 event, 3 ack, 4 connect_error.
 */
class FlowSocket {
  constructor(handlers) {
    this.on = handlers;
    this.ws = null;
    this.token = "";
    this.wanted = false;
    this.connected = false;
    this.attempt = 0;
    this.nextId = 0;
    this.pending = new Map();
    this.pingWait = 0;
    this.watchdog = 0;
    this.retryTimer = 0;
  }

  connect(token) {
    this.close();
    this.token = token;
    this.wanted = true;
    this.attempt = 0;
    this.open();
  }

  close() {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    this.drop();
    this.on.state("disconnected");
  }

  emit(name, payload, timeoutMs) {
    return new Promise((resolve, reject) => {
      if (!this.connected) return reject(new Error("not connected"));
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error("no reply within " + Math.round(timeoutMs / 1000) + " s"));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.send("42" + id + JSON.stringify([name, payload]));
    });
  }

  open() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(scheme + "//" + location.host + "/socket.io/?EIO=4&transport=websocket");
    this.ws = ws;
    this.on.state(this.attempt > 0 ? "reconnecting" : "connecting");
    ws.onmessage = (event) => {
      if (ws === this.ws && typeof event.data === "string") this.onEngine(event.data);
    };
    ws.onclose = () => {
      if (ws === this.ws) this.lost();
    };
  }

  send(text) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  /** Forgets the transport and fails the requests still waiting for an answer. */
  drop() {
    clearTimeout(this.watchdog);
    const ws = this.ws;
    this.ws = null;
    this.connected = false;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close();
    }
    for (const request of this.pending.values()) {
      clearTimeout(request.timer);
      request.reject(new Error("connection lost"));
    }
    this.pending.clear();
  }

  /** The transport closed or went quiet: try again with backoff while the user wants a session. */
  lost() {
    this.drop();
    if (!this.wanted) return this.on.state("disconnected");
    this.attempt++;
    const delay = Math.min(5000, 250 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.on.state("reconnecting");
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  /** No ping within pingInterval + pingTimeout means the server is gone. */
  arm() {
    clearTimeout(this.watchdog);
    if (this.pingWait > 0) this.watchdog = setTimeout(() => this.lost(), this.pingWait);
  }

  onEngine(packet) {
    switch (packet[0]) {
      case "0": {
        const open = JSON.parse(packet.slice(1));
        this.pingWait = (open.pingInterval || 25000) + (open.pingTimeout || 20000);
        this.arm();
        this.send("40" + JSON.stringify({ token: this.token }));
        break;
      }
      case "2":
        this.arm();
        this.send("3" + packet.slice(1));
        break;
      case "1":
        this.lost();
        break;
      case "4":
        this.onSocketIo(packet.slice(1));
        break;
    }
  }

  onSocketIo(packet) {
    const type = packet[0];
    let at = 1;
    if (packet[at] === "/") {
      const comma = packet.indexOf(",", at);
      const nsp = comma < 0 ? packet.slice(at) : packet.slice(at, comma);
      if (nsp !== "/") return;
      at = comma < 0 ? packet.length : comma + 1;
    }
    let id = "";
    while (at < packet.length && packet[at] >= "0" && packet[at] <= "9") id += packet[at++];
    let body;
    try {
      body = at < packet.length ? JSON.parse(packet.slice(at)) : undefined;
    } catch {
      return;
    }
    switch (type) {
      case "0":
        this.connected = true;
        this.attempt = 0;
        this.on.state("connected");
        this.on.connected();
        break;
      case "1":
        this.wanted = false;
        this.drop();
        this.on.state("disconnected");
        this.on.ended();
        break;
      case "2":
        if (Array.isArray(body) && typeof body[0] === "string") {
          if (id) this.send("43" + id + "[]");
          this.on.event(body[0], body[1]);
        }
        break;
      case "3": {
        const request = this.pending.get(Number(id));
        if (!request) return;
        this.pending.delete(Number(id));
        clearTimeout(request.timer);
        request.resolve(Array.isArray(body) ? body[0] : undefined);
        break;
      }
      case "4":
        this.wanted = false;
        this.drop();
        this.on.state("refused");
        this.on.refused(body && typeof body.message === "string" ? body.message : "refused");
        break;
    }
  }
}

const $ = (id) => document.getElementById(id);

/** Creates an element; children are nodes or strings (always text, never markup). */
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) node.append(child);
  return node;
}

function storage(action, value) {
  try {
    if (action === "get") return sessionStorage.getItem(TOKEN_KEY) || "";
    if (action === "set") sessionStorage.setItem(TOKEN_KEY, value);
    if (action === "forget") sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token lasts as long as the page
  }
  return "";
}

function describeError(reply) {
  if (reply instanceof Error) return reply.message;
  if (reply && reply.error) return (reply.error_type || "error") + ": " + (reply.message || "failed");
  return "unexpected reply";
}

const STATE_TEXT = { connecting: "connecting…", reconnecting: "reconnecting…", connected: "connected", refused: "refused", disconnected: "disconnected" };
/** Docker's own events (the rest are what the API did) read as "docker". */
const KIND_TEXT = { actor_event: "docker" };
const BUSY_TEXT = { start: "starting…", stop: "stopping…", restart: "restarting…", delete: "deleting…" };

const containers = new Map();
const rows = new Map();
const busy = new Map();
let refreshTimer = 0;

const client = new FlowSocket({
  state(state) {
    const conn = $("conn");
    conn.dataset.state = state;
    conn.textContent = STATE_TEXT[state] || state;
    const live = state === "connected";
    $("container-table").classList.toggle("stale", !live);
    $("refresh").disabled = !live;
    $("msg-send").disabled = !live;
    for (const id of rows.keys()) renderRow(id);
  },
  connected() {
    setTokenMsg("", false);
    setListMsg("");
    refresh(0);
  },
  refused(message) {
    storage("forget");
    clearContainers();
    setTokenMsg("Refused: " + message + ". Check the token and connect again.", true);
    $("token").focus();
    $("token").select();
  },
  ended() {
    setTokenMsg("The server ended the session. Connect again to continue.", true);
  },
  event(name, payload) {
    if (!payload || typeof payload !== "object") return;
    if (name === "activity") {
      addActivity(payload.time, payload.kind, payload.name || payload.container_id, payload.message, payload.details);
      refresh();
    } else if (name === "container_state") {
      const known = containers.get(payload.id);
      if (known && typeof payload.state === "string") {
        known.state = payload.state;
        renderRow(payload.id);
      }
      refresh();
    } else if (name === "container_message") {
      addActivity(payload.time, "from container", payload.name || payload.container_id, String(payload.command || "") + " " + clip(JSON.stringify(payload.data), 300));
    }
  },
});

function setTokenMsg(text, bad) {
  $("token-msg").textContent = text;
  $("token-msg").classList.toggle("bad", bad);
}

function setListMsg(text) {
  $("list-msg").textContent = text;
}

function clip(text, max) {
  text = text === undefined ? "" : String(text);
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

/** Asks for the list soon; events come in bursts (stop is "kill", "die", "stop"). */
function refresh(delay = 150) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    if (!client.connected) return;
    try {
      const reply = await client.emit("list_containers", {}, 30000);
      if (reply && reply.ok && Array.isArray(reply.data)) showContainers(reply.data);
      else setListMsg("Could not list the containers: " + describeError(reply));
    } catch (error) {
      setListMsg("Could not list the containers: " + describeError(error));
    }
  }, delay);
}

function showContainers(list) {
  const seen = new Set();
  for (const c of list) {
    if (!c || typeof c.id !== "string") continue;
    seen.add(c.id);
    containers.set(c.id, c);
  }
  for (const id of [...containers.keys()]) if (!seen.has(id)) containers.delete(id);
  const tbody = $("container-rows");
  for (const [id, row] of rows) {
    if (!containers.has(id)) {
      row.remove();
      rows.delete(id);
    }
  }
  const ordered = [...containers.values()].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  for (const c of ordered) {
    if (!rows.has(c.id)) rows.set(c.id, newRow(c.id));
    tbody.append(rows.get(c.id));
    renderRow(c.id);
  }
  showEmpty(ordered.length === 0 ? "No containers yet. Create one with: dockernet flow call create_container" : "");
  fillSelect(ordered);
}

/** The table's one-line placeholder row; an empty text removes it. */
function showEmpty(text) {
  const tbody = $("container-rows");
  const cell = tbody.querySelector("td.empty");
  if (!text) return cell && cell.parentElement.remove();
  if (cell) cell.textContent = text;
  else tbody.append(el("tr", {}, el("td", { class: "empty", colspan: 6, text })));
}

function newRow(id) {
  const cell = (cls) => el("td", { class: cls });
  const button = (action, cls) => el("button", { type: "button", class: cls || "", "data-action": action, text: action, onclick: () => act(id, action) });
  const actions = el("td", { class: "actions" }, el("div", {}, button("start"), button("stop"), button("restart"), button("delete", "danger")));
  return el("tr", { "data-id": id }, cell("name"), cell("mono id"), cell("image"), el("td", {}, el("span", { class: "state" })), cell("sock"), actions);
}

function renderRow(id) {
  const c = containers.get(id);
  const row = rows.get(id);
  if (!c || !row) return;
  const [name, short, image, state, sock] = row.children;
  name.textContent = c.name || "(unnamed)";
  short.textContent = c.short_id || String(c.id).slice(0, 12);
  short.title = c.id;
  image.textContent = c.image || "";
  const pending = busy.get(id);
  const badge = state.firstChild;
  badge.textContent = pending ? BUSY_TEXT[pending] : c.state || "unknown";
  badge.className = "state " + (pending ? "busy" : String(c.state || "").replace(/[^a-z]/g, ""));
  if (c.status) badge.title = c.status;
  sock.textContent = c.socket_connected ? "connected" : "not connected";
  sock.className = "sock " + (c.socket_connected ? "yes" : "no");
  sock.title = c.last_communication ? "last message " + c.last_communication : "no message yet";
  const running = c.state === "running";
  const enabled = { start: !running, stop: running, restart: true, delete: true };
  for (const button of row.querySelectorAll("button")) {
    const action = button.dataset.action;
    button.disabled = !client.connected || Boolean(pending) || !enabled[action];
    button.setAttribute("aria-label", action + " " + (c.name || c.id));
  }
}

async function act(id, action) {
  const c = containers.get(id);
  if (!c || busy.has(id)) return;
  if (action === "delete" && !confirm("Delete container " + (c.name || c.id) + "? It is removed together with its filesystem.")) return;
  busy.set(id, action);
  renderRow(id);
  setListMsg("");
  try {
    const reply = await client.emit(action + "_container", { container_id: id }, ACTION_TIMEOUT_MS);
    if (!reply || !reply.ok) setListMsg(action + " " + (c.name || id) + " failed: " + describeError(reply));
  } catch (error) {
    setListMsg(action + " " + (c.name || id) + " failed: " + describeError(error));
  } finally {
    busy.delete(id);
    renderRow(id);
    refresh(0);
  }
}

function fillSelect(list) {
  const select = $("msg-container");
  const chosen = select.value;
  select.replaceChildren(...list.map((c) => el("option", { value: c.id, text: c.name || c.short_id || String(c.id).slice(0, 12) })));
  if (list.length === 0) select.append(el("option", { value: "", text: "no containers" }));
  if (list.some((c) => c.id === chosen)) select.value = chosen;
}

function clearContainers() {
  containers.clear();
  for (const row of rows.values()) row.remove();
  rows.clear();
  showEmpty("Enter the token to see the containers.");
  fillSelect([]);
}

/** Parses the data field; shows the problem beside it. Returns { ok, value }. */
function readData() {
  const area = $("msg-data");
  const text = area.value.trim();
  let result;
  try {
    result = { ok: true, value: text === "" ? {} : JSON.parse(text) };
  } catch (error) {
    result = { ok: false, message: "Not valid JSON: " + error.message };
  }
  area.setAttribute("aria-invalid", String(!result.ok));
  $("msg-data-err").textContent = result.ok ? "" : result.message;
  return result;
}

function showReply(head, value, bad) {
  $("reply-head").textContent = head;
  $("reply-head").classList.toggle("bad", bad);
  $("reply").textContent = value === undefined ? "" : JSON.stringify(value, null, 2);
}

async function sendMessage(event) {
  event.preventDefault();
  const containerId = $("msg-container").value;
  const command = $("msg-command").value.trim();
  const data = readData();
  const timeoutText = $("msg-timeout").value.trim();
  const timeout = timeoutText === "" ? undefined : Number(timeoutText);
  if (!containerId) return showReply("Choose a container first.", undefined, true);
  if (!command) {
    $("msg-command").focus();
    return showReply("Enter a command.", undefined, true);
  }
  if (!data.ok) {
    $("msg-data").focus();
    return showReply("Not sent: fix the data first.", undefined, true);
  }
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout >= 1 && timeout <= 600000)) {
    $("msg-timeout").focus();
    return showReply("The timeout is a whole number of milliseconds, 1 to 600000.", undefined, true);
  }
  const name = $("msg-container").selectedOptions[0]?.textContent || containerId;
  const payload = { container_id: containerId, message: { command, data: data.value } };
  if (timeout !== undefined) payload.timeout_ms = timeout;
  showReply("Waiting for " + name + "…", undefined, false);
  const started = performance.now();
  try {
    const reply = await client.emit("send_message", payload, (timeout || 30000) + 5000);
    const ms = Math.round(performance.now() - started);
    if (reply && reply.ok) showReply("Reply from " + name + " (" + ms + " ms)", reply.data, false);
    else showReply(describeError(reply), reply, true);
  } catch (error) {
    showReply("No reply: " + describeError(error), undefined, true);
  }
}

/** "page-demo: die" beside the name page-demo reads better as "die". */
function withoutName(message, name) {
  return name && message.startsWith(name + ": ") ? message.slice(name.length + 2) : message;
}

function addActivity(time, kind, name, message, details) {
  const feed = $("feed");
  const when = new Date(time || Date.now());
  const valid = !Number.isNaN(when.getTime());
  const stamp = valid ? when.toLocaleTimeString([], { hour12: false }) : String(time);
  const kindText = KIND_TEXT[kind] || String(kind || "event").replace(/_/g, " ");
  const entry = el("li", { class: kind === "actor_event" ? "docker" : undefined, title: details ? clip(JSON.stringify(details, null, 1), 2000) : undefined },
    el("time", { datetime: valid ? when.toISOString() : undefined, title: valid ? when.toLocaleString() : undefined, text: stamp }),
    el("span", { class: "kind " + String(kind || "").replace(/[^a-z_]/g, ""), text: kindText }),
    el("span", { class: "what" }, el("b", { text: clip(name || "", 80) }), clip(withoutName(String(message || ""), name), 500)));
  feed.prepend(entry);
  while (feed.children.length > FEED_MAX) feed.lastElementChild.remove();
  $("feed-empty").hidden = true;
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("token").value.trim();
  if (!token) {
    setTokenMsg("Enter the API token (it is in the server's token file, e.g. /etc/dockernet/flow.token).", true);
    return $("token").focus();
  }
  storage("set", token);
  setTokenMsg("", false);
  client.connect(token);
});

$("forget").addEventListener("click", () => {
  storage("forget");
  client.close();
  $("token").value = "";
  clearContainers();
  setListMsg("");
  setTokenMsg("Token forgotten.", false);
  $("token").focus();
});

$("refresh").addEventListener("click", () => refresh(0));
$("send-form").addEventListener("submit", sendMessage);
$("msg-data").addEventListener("input", readData);
fillSelect([]);

const saved = storage("get");
if (saved) {
  $("token").value = saved;
  client.connect(saved);
} else {
  $("token").focus();
}
`;

const hash = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

/** Only the page's own script and style run; the socket may go back to where the page came from. */
const policy = [
  "default-src 'none'",
  `script-src ${hash(script)}`,
  `style-src ${hash(style)}`,
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
<style>${style}</style>
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
