/**
 * The floor of warp-latency.ts: the least a reactor must do to route a target when it starts,
 * one inspect and one `nsenter -t PID -n ip route replace default via VIA` per start event and
 * nothing else. It runs as a process of its own, started fresh for each round like the daemon it
 * is compared with, so neither shares an event loop with the benchmark that starts the targets.
 * It logs as `dockernet --log-format json` does ("floor ready", then one "route changed" line per
 * target), so the benchmark times both from the same kind of line.
 * Usage: DOCKER_HOST=unix:///PATH bun test/bench/_floor-reactor.ts VIA [DESTINATION=default]
 * (another DESTINATION, a host route of its own, lets it run beside dockernet on the same targets
 * without the two racing for the same route: the paired mode of warp-latency.ts).
 */
import Docker from "dockerode";
import { exec } from "../support/_exec.ts";

// Daemon.start appends dockernet's own flags (--log-format json): only the words before them count.
const words = process.argv.slice(2);
const flags = words.findIndex((word) => word.startsWith("--"));
const [via = "", destination = "default"] = flags < 0 ? words : words.slice(0, flags);
const docker = new Docker({ socketPath: (process.env.DOCKER_HOST ?? "").replace(/^unix:\/\//, "") });

function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: "info", tag: "floor", msg, ...fields })}\n`);
}

async function route(id: string): Promise<void> {
  const info = await docker.getContainer(id).inspect();
  const args = ["-t", String(info.State.Pid), "-n", "ip", "route", "replace", destination, "via", via];
  await exec("nsenter", args);
  log("route changed", { container: info.Name.slice(1), pid: info.State.Pid, command: `nsenter ${args.join(" ")}`, result: "ok" });
}

const stream = (await docker.getEvents({ filters: { type: ["container"], event: ["start"], label: ["network.warp.target"] } })) as NodeJS.ReadableStream;
let rest = "";
stream.on("data", (chunk: Buffer) => {
  const lines = (rest + chunk.toString()).split("\n");
  rest = lines.pop() ?? "";
  for (const line of lines.filter(Boolean)) {
    const id = (JSON.parse(line) as { id: string }).id;
    route(id).catch((error: unknown) => log("route change failed", { container: id, error: String(error) }));
  }
});
log("floor ready");
