/**
 * The page's stylesheet: light and dark colours, the header with the token form, the containers
 * table, the send form and the activity feed. The Content-Security-Policy admits it by its hash
 * (see page.ts), so it is a plain string with no template holes.
 */
export const pageStyle = String.raw`
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
