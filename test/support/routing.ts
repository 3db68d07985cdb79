/** Reads routing decisions from a container's real namespace. */
import type { TestContainer } from "./engine.ts";

/** The gateway the kernel would use for `address` (`ip route get`), or "direct" / "unreachable". */
export async function nextHop(container: TestContainer, address: string): Promise<string> {
  const result = await container.nsExec(["ip", "route", "get", address]);
  if (result.code !== 0) return "unreachable";
  return /\bvia (\S+)/.exec(result.stdout)?.[1] ?? "direct";
}

/** dockernet's policy rules (priorities 5200-5299) present in the namespace, as `ip rule` prints them. */
export async function dockernetRules(container: TestContainer, family: 4 | 6 = 4): Promise<string[]> {
  const result = await container.nsExec(["ip", ...(family === 6 ? ["-6"] : []), "rule", "show"]);
  return result.stdout.split("\n").map((line) => line.trim()).filter((line) => /^52\d\d:/.test(line));
}

/** The routes of one of dockernet's tables (default 211) as `dst via gw` strings (`dst` alone when unreachable). */
export async function warpRoutes(container: TestContainer, table = "211", family: 4 | 6 = 4): Promise<string[]> {
  const shown = await container.nsExec(["ip", ...(family === 6 ? ["-6"] : []), "-j", "route", "show", "table", table]);
  if (shown.stderr.includes("FIB table does not exist")) return [];
  const routes = JSON.parse(shown.stdout) as { dst: string; gateway?: string }[];
  return routes.map((route) => `${route.dst}${route.gateway ? ` via ${route.gateway}` : ""}`);
}
