// @ts-check
/**
 * The page of `dockernet flow serve`: the manager's containers with live state, the lifecycle
 * buttons, a send-message form and the activity feed. It talks to the server through the official
 * Socket.IO client (`/page/socket.io.min.js`, loaded before this module, sets the global `io`).
 *
 * Data from the server only ever reaches the document through `textContent` and attributes, and
 * the page's Content-Security-Policy admits only the scripts served with its nonce, so a
 * container name or message cannot run code. Type-checked with `tsc -p src/modes/flow/page`.
 */

/** @typedef {import("socket.io-client").Socket} Socket */
/**
 * One of the manager's containers as `list_containers` answers it.
 * @typedef {{ id: string, short_id?: string, name?: string, image?: string, state?: string, status?: string, socket_connected?: boolean, last_communication?: string | null }} Container
 */
/** @typedef {{ ok: true, data: unknown } | { error: true, error_type?: string, message?: string }} Reply */
/** @typedef {"connecting" | "reconnecting" | "connected" | "refused" | "disconnected"} ConnState */
/** @typedef {"start" | "stop" | "restart" | "delete"} Action */

const TOKEN_KEY = "dockernet.flow.token";
const FEED_MAX = 200;
const ACTION_TIMEOUT_MS = 60000;
/** @type {Record<ConnState, string>} */
const STATE_TEXT = { connecting: "connecting…", reconnecting: "reconnecting…", connected: "connected", refused: "refused", disconnected: "disconnected" };
/** Docker's own events (the rest are what the API did) read as "docker". */
/** @type {Record<string, string>} */
const KIND_TEXT = { actor_event: "docker" };
/** @type {Record<Action, string>} */
const BUSY_TEXT = { start: "starting…", stop: "stopping…", restart: "restarting…", delete: "deleting…" };
/** @type {Action[]} */
const ACTIONS = ["start", "stop", "restart", "delete"];

/** The official client's `io`, a global of its browser bundle. */
const io = /** @type {typeof import("socket.io-client").io} */ (/** @type {any} */ (globalThis).io);

// ---- helpers: the document is built from text, never from markup --------------------------------

/**
 * The element with this id (the page's own markup has every one).
 * @param {string} id
 */
function $(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node;
}

/** @param {string} id */
const input = (id) => /** @type {HTMLInputElement} */ ($(id));

/**
 * Creates an element; children are nodes or strings (always text, never markup).
 * @param {string} tag
 * @param {Record<string, unknown>} props `class`, `text`, `on<event>` handlers, or attributes
 * @param {(Node | string)[]} children
 */
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = String(value ?? "");
    else if (key === "text") node.textContent = String(value ?? "");
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) node.append(child);
  return node;
}

/**
 * The token, kept for the tab's session; disabled storage keeps it as long as the page.
 * @param {"get" | "set" | "forget"} action
 * @param {string} [value]
 */
function storage(action, value = "") {
  try {
    if (action === "get") return sessionStorage.getItem(TOKEN_KEY) || "";
    if (action === "set") sessionStorage.setItem(TOKEN_KEY, value);
    if (action === "forget") sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token lasts as long as the page
  }
  return "";
}

/**
 * A failed reply or an Error, in one line.
 * @param {unknown} reply
 */
function describeError(reply) {
  if (reply instanceof Error) return reply.message;
  const failed = /** @type {{ error?: unknown, error_type?: string, message?: string } | null | undefined} */ (reply);
  if (failed && failed.error) return (failed.error_type || "error") + ": " + (failed.message || "failed");
  return "unexpected reply";
}

/**
 * @param {unknown} text
 * @param {number} max
 */
function clip(text, max) {
  const whole = text === undefined ? "" : String(text);
  return whole.length > max ? whole.slice(0, max - 1) + "…" : whole;
}

/**
 * @param {string} text
 * @param {boolean} bad
 */
function setTokenMsg(text, bad) {
  $("token-msg").textContent = text;
  $("token-msg").classList.toggle("bad", bad);
}

/** @param {string} text */
function setListMsg(text) {
  $("list-msg").textContent = text;
}

// ---- the connection: the official client, and what the page shows of it ---------------------------

/** @type {Socket | undefined} */
let socket;

/** @param {ConnState} state */
function showState(state) {
  const conn = $("conn");
  conn.dataset.state = state;
  conn.textContent = STATE_TEXT[state];
  const live = state === "connected";
  $("container-table").classList.toggle("stale", !live);
  /** @type {HTMLButtonElement} */ ($("refresh")).disabled = !live;
  /** @type {HTMLButtonElement} */ ($("msg-send")).disabled = !live;
  for (const id of rows.keys()) renderRow(id);
}

const connected = () => socket !== undefined && socket.connected;

/**
 * Connects with `token`, replacing any earlier session; reconnects with backoff while it lasts.
 * @param {string} token
 */
function connect(token) {
  disconnect();
  // WebSocket only, as the hand-written client was: with long-polling first, Chromium logged a
  // 400 answer from the server during the page test.
  const next = io({ auth: { token }, transports: ["websocket"], reconnectionDelay: 250, reconnectionDelayMax: 5000, randomizationFactor: 0.25 });
  socket = next;
  showState("connecting");
  next.on("connect", () => {
    showState("connected");
    setTokenMsg("", false);
    setListMsg("");
    refresh(0);
  });
  next.on("connect_error", (error) => {
    // The server refused (the token): the client does not try again by itself.
    if (next.active) return showState("reconnecting");
    disconnect("refused");
    storage("forget");
    clearContainers();
    setTokenMsg("Refused: " + error.message + ". Check the token and connect again.", true);
    input("token").focus();
    input("token").select();
  });
  next.io.on("reconnect_attempt", () => showState("reconnecting"));
  next.on("disconnect", (reason) => {
    if (next.active) return showState("reconnecting");
    disconnect();
    if (reason === "io server disconnect") setTokenMsg("The server ended the session. Connect again to continue.", true);
  });
  next.onAny(onEvent);
}

/**
 * Ends the session (requests still waiting fail).
 * @param {ConnState} [state]
 */
function disconnect(state = "disconnected") {
  socket?.removeAllListeners();
  socket?.io.removeAllListeners();
  socket?.close();
  socket = undefined;
  showState(state);
}

/**
 * One request; resolves with its reply, rejects when not connected or with no reply in time.
 * @param {string} name
 * @param {unknown} payload
 * @param {number} timeoutMs
 * @returns {Promise<Reply>}
 */
async function request(name, payload, timeoutMs) {
  // Not queued for a later connection: a click is answered now.
  if (!socket || !socket.connected) throw new Error("not connected");
  try {
    return await socket.timeout(timeoutMs).emitWithAck(name, payload);
  } catch (error) {
    throw new Error(connected() ? "no reply within " + Math.round(timeoutMs / 1000) + " s" : "connection lost", { cause: error });
  }
}

/**
 * What the server tells every client, and a subscribed container's own messages.
 * @param {string} name
 * @param {any} payload
 */
function onEvent(name, payload) {
  if (!payload || typeof payload !== "object") return;
  if (name === "activity" && payload.kind === "pulling") {
    showPull(payload);
  } else if (name === "activity") {
    if (payload.kind === "pulled") $("pull-progress").hidden = true;
    addActivity(payload.time, payload.kind, payload.name || payload.container_id, payload.message, payload.details);
    // A message changes no row; the list is read again only for what may (each read lists containers).
    if (payload.kind !== "message") refresh();
  } else if (name === "container_state") {
    const known = containers.get(payload.id);
    if (known && typeof payload.state === "string") {
      known.state = payload.state;
      renderRow(payload.id);
    }
    refresh();
  } else if (name === "dropped") {
    const counts = Array.isArray(payload.containers) ? payload.containers : [];
    const missed = counts.map((/** @type {any} */ entry) => String(entry.name || entry.container_id) + ": " + String(entry.container_message || 0) + " messages, " + String(entry.log || 0) + " log lines").join("; ");
    addActivity(payload.time, "dropped", "this page", "read too slowly, missed " + missed);
  } else if (name === "container_message") {
    addActivity(payload.time, "from container", payload.name || payload.container_id, String(payload.command || "") + " " + clip(JSON.stringify(payload.data), 300));
  }
}

// ---- the containers table ------------------------------------------------------------------------

/** @type {Map<string, Container>} */
const containers = new Map();
/** @type {Map<string, HTMLTableRowElement>} */
const rows = new Map();
/** @type {Map<string, Action>} */
const busy = new Map();
/** @type {ReturnType<typeof setTimeout> | undefined} */
let refreshTimer;

/**
 * Asks for the list soon; events come in bursts (stop is "kill", "die", "stop").
 * @param {number} [delay]
 */
function refresh(delay = 150) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    if (!connected()) return;
    try {
      const reply = await request("list_containers", {}, 30000);
      if ("ok" in reply && Array.isArray(reply.data)) showContainers(reply.data);
      else setListMsg("Could not list the containers: " + describeError(reply));
    } catch (error) {
      setListMsg("Could not list the containers: " + describeError(error));
    }
  }, delay);
}

/** @param {Container[]} list */
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
    const row = rows.get(c.id) ?? newRow(c.id);
    rows.set(c.id, row);
    tbody.append(row);
    renderRow(c.id);
  }
  showEmpty(ordered.length === 0 ? "No containers yet. Create one with: dockernet flow call create_container" : "");
  fillSelect(ordered);
}

/**
 * The table's one-line placeholder row; an empty text removes it.
 * @param {string} text
 */
function showEmpty(text) {
  const tbody = $("container-rows");
  const cell = tbody.querySelector("td.empty");
  if (!text) return cell?.parentElement?.remove();
  if (cell) cell.textContent = text;
  else tbody.append(el("tr", {}, el("td", { class: "empty", colspan: 6, text })));
}

/** @param {string} id */
function newRow(id) {
  /** @param {string} cls */
  const cell = (cls) => el("td", { class: cls });
  /** @param {Action} action */
  const button = (action) => el("button", { type: "button", class: action === "delete" ? "danger" : "", "data-action": action, text: action, onclick: () => act(id, action) });
  const actions = el("td", { class: "actions" }, el("div", {}, ...ACTIONS.map(button)));
  return /** @type {HTMLTableRowElement} */ (el("tr", { "data-id": id }, cell("name"), cell("mono id"), cell("image"), el("td", {}, el("span", { class: "state" })), cell("sock"), actions));
}

/** @param {string} id */
function renderRow(id) {
  const c = containers.get(id);
  const row = rows.get(id);
  if (!c || !row) return;
  const [name, short, image, state, sock] = /** @type {HTMLElement[]} */ ([...row.children]);
  if (!name || !short || !image || !state || !sock) return;
  name.textContent = c.name || "(unnamed)";
  short.textContent = c.short_id || String(c.id).slice(0, 12);
  short.title = c.id;
  image.textContent = c.image || "";
  const pending = busy.get(id);
  const badge = /** @type {HTMLElement} */ (state.firstChild);
  badge.textContent = pending ? BUSY_TEXT[pending] : c.state || "unknown";
  badge.className = "state " + (pending ? "busy" : String(c.state || "").replace(/[^a-z]/g, ""));
  if (c.status) badge.title = c.status;
  sock.textContent = c.socket_connected ? "connected" : "not connected";
  sock.className = "sock " + (c.socket_connected ? "yes" : "no");
  sock.title = c.last_communication ? "last message " + c.last_communication : "no message yet";
  const running = c.state === "running";
  /** @type {Record<Action, boolean>} */
  const enabled = { start: !running, stop: running, restart: true, delete: true };
  for (const button of row.querySelectorAll("button")) {
    const action = /** @type {Action} */ (button.dataset.action);
    button.disabled = !connected() || Boolean(pending) || !enabled[action];
    button.setAttribute("aria-label", action + " " + (c.name || c.id));
  }
}

/**
 * @param {string} id
 * @param {Action} action
 */
async function act(id, action) {
  const c = containers.get(id);
  if (!c || busy.has(id)) return;
  if (action === "delete" && !confirm("Delete container " + (c.name || c.id) + "? It is removed together with its filesystem.")) return;
  busy.set(id, action);
  renderRow(id);
  setListMsg("");
  try {
    const reply = await request(action + "_container", { container_id: id }, ACTION_TIMEOUT_MS);
    if (!("ok" in reply)) setListMsg(action + " " + (c.name || id) + " failed: " + describeError(reply));
  } catch (error) {
    setListMsg(action + " " + (c.name || id) + " failed: " + describeError(error));
  } finally {
    busy.delete(id);
    renderRow(id);
    refresh(0);
  }
}

/** @param {Container[]} list */
function fillSelect(list) {
  const select = /** @type {HTMLSelectElement} */ ($("msg-container"));
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

// ---- the send-message form -----------------------------------------------------------------------

/**
 * Parses the data field; shows the problem beside it.
 * @returns {{ ok: true, value: unknown } | { ok: false, message: string }}
 */
function readData() {
  const area = /** @type {HTMLTextAreaElement} */ ($("msg-data"));
  const text = area.value.trim();
  /** @type {{ ok: true, value: unknown } | { ok: false, message: string }} */
  let result;
  try {
    result = { ok: true, value: text === "" ? {} : JSON.parse(text) };
  } catch (error) {
    result = { ok: false, message: "Not valid JSON: " + describeError(error) };
  }
  area.setAttribute("aria-invalid", String(!result.ok));
  $("msg-data-err").textContent = result.ok ? "" : result.message;
  return result;
}

/**
 * @param {string} head
 * @param {unknown} value
 * @param {boolean} bad
 */
function showReply(head, value, bad) {
  $("reply-head").textContent = head;
  $("reply-head").classList.toggle("bad", bad);
  $("reply").textContent = value === undefined ? "" : JSON.stringify(value, null, 2);
}

/** @param {SubmitEvent} event */
async function sendMessage(event) {
  event.preventDefault();
  const select = /** @type {HTMLSelectElement} */ ($("msg-container"));
  const containerId = select.value;
  const command = input("msg-command").value.trim();
  const data = readData();
  const timeoutText = input("msg-timeout").value.trim();
  const timeout = timeoutText === "" ? undefined : Number(timeoutText);
  if (!containerId) return showReply("Choose a container first.", undefined, true);
  if (!command) {
    input("msg-command").focus();
    return showReply("Enter a command.", undefined, true);
  }
  if (!data.ok) {
    $("msg-data").focus();
    return showReply("Not sent: fix the data first.", undefined, true);
  }
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout >= 1 && timeout <= 600000)) {
    input("msg-timeout").focus();
    return showReply("The timeout is a whole number of milliseconds, 1 to 600000.", undefined, true);
  }
  const name = select.selectedOptions[0]?.textContent || containerId;
  const payload = { container_id: containerId, message: { command, data: data.value }, ...(timeout === undefined ? {} : { timeout_ms: timeout }) };
  showReply("Waiting for " + name + "…", undefined, false);
  const started = performance.now();
  try {
    const reply = await request("send_message", payload, (timeout || 30000) + 5000);
    const ms = Math.round(performance.now() - started);
    if ("ok" in reply) showReply("Reply from " + name + " (" + ms + " ms)", reply.data, false);
    else showReply(describeError(reply), reply, true);
  } catch (error) {
    showReply("No reply: " + describeError(error), undefined, true);
  }
}

// ---- an image being pulled: one line, redrawn at each step ---------------------------------------

/** @type {Map<string, {current: number, total: number}>} */
const pullLayers = new Map();

/**
 * The line under the list: the image, its layers done and the bytes of those that say.
 * @param {any} payload
 */
function showPull(payload) {
  const details = payload.details && typeof payload.details === "object" ? payload.details : {};
  const image = String(details.image || payload.name || "");
  const line = $("pull-progress");
  if (line.hidden || line.dataset.image !== image) {
    pullLayers.clear();
    line.dataset.image = image;
    line.hidden = false;
  }
  if (typeof details.layer === "string" && details.layer !== "") {
    const total = typeof details.total === "number" ? details.total : 0;
    const done = /complete|exists/i.test(String(details.status || ""));
    const current = done ? Math.max(total, 1) : typeof details.current === "number" ? details.current : 0;
    pullLayers.set(details.layer, { current, total: done ? Math.max(total, 1) : total });
  }
  let current = 0;
  let total = 0;
  for (const layer of pullLayers.values()) {
    current += Math.min(layer.current, layer.total || layer.current);
    total += layer.total;
  }
  const percent = total > 0 ? " " + Math.min(100, Math.round((current / total) * 100)) + "%" : "";
  line.textContent = "Pulling " + clip(image, 120) + ": " + pullLayers.size + " layers" + percent + (total > 0 ? " (" + Math.round(current / 1024) + " of " + Math.round(total / 1024) + " KiB)" : "");
}

// ---- the activity feed: newest first, at most FEED_MAX entries -----------------------------------

/**
 * "page-demo: die" beside the name page-demo reads better as "die".
 * @param {string} message
 * @param {string} name
 */
function withoutName(message, name) {
  return name && message.startsWith(name + ": ") ? message.slice(name.length + 2) : message;
}

/**
 * @param {unknown} time
 * @param {unknown} kind
 * @param {unknown} name
 * @param {unknown} message
 * @param {unknown} [details]
 */
function addActivity(time, kind, name, message, details) {
  const feed = $("feed");
  const when = new Date(typeof time === "string" || typeof time === "number" ? time : Date.now());
  const valid = !Number.isNaN(when.getTime());
  const stamp = valid ? when.toLocaleTimeString([], { hour12: false }) : String(time);
  const kindText = KIND_TEXT[String(kind)] || String(kind || "event").replace(/_/g, " ");
  const shownName = clip(name || "", 80);
  const entry = el("li", { class: kind === "actor_event" ? "docker" : undefined, title: details ? clip(JSON.stringify(details, null, 1), 2000) : undefined },
    el("time", { datetime: valid ? when.toISOString() : undefined, title: valid ? when.toLocaleString() : undefined, text: stamp }),
    el("span", { class: "kind " + String(kind || "").replace(/[^a-z_]/g, ""), text: kindText }),
    el("span", { class: "what" }, el("b", { text: shownName }), clip(withoutName(String(message || ""), String(name || "")), 500)));
  feed.prepend(entry);
  while (feed.children.length > FEED_MAX) feed.lastElementChild?.remove();
  $("feed-empty").hidden = true;
}

// ---- the start: the forms' wiring, and a token saved earlier in this tab connects at once ---------

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = input("token").value.trim();
  if (!token) {
    setTokenMsg("Enter the API token (it is in the server's token file, e.g. /etc/dockernet/flow.token).", true);
    return input("token").focus();
  }
  storage("set", token);
  setTokenMsg("", false);
  connect(token);
});

$("forget").addEventListener("click", () => {
  storage("forget");
  disconnect();
  input("token").value = "";
  clearContainers();
  setListMsg("");
  setTokenMsg("Token forgotten.", false);
  input("token").focus();
});

$("refresh").addEventListener("click", () => refresh(0));
$("send-form").addEventListener("submit", (event) => void sendMessage(/** @type {SubmitEvent} */ (event)));
$("msg-data").addEventListener("input", readData);
fillSelect([]);

const saved = storage("get");
if (saved) {
  input("token").value = saved;
  connect(saved);
} else {
  input("token").focus();
}
