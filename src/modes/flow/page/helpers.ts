/**
 * Small helpers of the page script: `$` and `el` build the document (text only, never markup),
 * `storage` keeps the token for the tab's session and survives disabled storage, and
 * `describeError` turns a failed reply or an Error into one line.
 */
export const helpersScript = String.raw`
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
`;
