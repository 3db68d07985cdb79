/**
 * The send-message form of the page script: it checks the container, command, JSON data and
 * timeout before sending, then shows the reply (or why there is none) below the form.
 */
export const sendScript = String.raw`
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
`;
