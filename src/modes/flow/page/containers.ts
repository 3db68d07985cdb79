/**
 * The containers table of the page script: refreshing the list, one row per container with its
 * state and socket, and the lifecycle buttons (start, stop, restart, delete) with their busy state.
 * It also keeps the send form's container choice in step with the list.
 */
export const containersScript = String.raw`
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
`;
