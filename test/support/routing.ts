/** Reads routing decisions from a container's real namespace. */
import type { TestContainer } from "./engine.ts";

/** The gateway the kernel would use for `address` (`ip route get`), or "direct" / "unreachable". */
export async function nextHop(container: TestContainer, address: string): Promise<string> {
  const result = await container.nsExec(["ip", "route", "get", address]);
  if (result.code !== 0) return "unreachable";
  return /\bvia (\S+)/.exec(result.stdout)?.[1] ?? "direct";
}

/** dockernet's policy rules (priorities 5210 and 5211) present in the namespace. */
export async function dockernetRules(container: TestContainer): Promise<string[]> {
  const result = await container.nsExec(["ip", "rule", "show"]);
  return result.stdout.split("\n").filter((line) => /^52(10|11):/.test(line.trim()));
}

/** The routes of dockernet's table (211) as `dst via gw` strings. */
export async function warpRoutes(container: TestContainer): Promise<string[]> {
  const shown = await container.nsExec(["ip", "-j", "route", "show", "table", "211"]);
  if (shown.stderr.includes("FIB table does not exist")) return [];
  const routes = JSON.parse(shown.stdout) as { dst: string; gateway?: string }[];
  return routes.map((route) => `${route.dst}${route.gateway ? ` via ${route.gateway}` : ""}`);
}
