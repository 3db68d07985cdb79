/**
 * The page script's frame: its settings (first, before the socket client), the UI's state with
 * the handlers it gives the socket client, and the wiring that starts the page (last, once every
 * function it calls exists). See page.ts for the order of all the parts.
 */

/** The script's first lines: the settings the later parts read. */
export const uiSettingsScript = String.raw`
"use strict";
const TOKEN_KEY = "dockernet.flow.token";
const FEED_MAX = 200;
const ACTION_TIMEOUT_MS = 60000;
`;

/**
 * The UI's state and the socket's handlers: they keep the connection badge, the token message and
 * the table in step with the session.
 */
export const uiCoreScript = String.raw`
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
      // A message changes no row; the list is read again only for what may (each read lists containers).
      if (payload.kind !== "message") refresh();
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
`;

/** The forms' wiring and the start: connect at once with a token saved earlier in this tab. */
export const uiStartScript = String.raw`
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
