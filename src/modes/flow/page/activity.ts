/** The activity feed of the page script: newest first, capped at `FEED_MAX` entries. */
export const activityScript = String.raw`
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
`;
