/**
 * `npm run demo`: the main jobs on a throwaway engine. Starts a private dockerd in its own network
 * namespace and runs the compiled binary as a user would, showing real routes and real requests:
 *
 * - warp: a gateway `warp-1` and two targets, `app` (kill switch, the default) and `app-restore`
 *   (`network.warp.on_down=restore`). The address 203.0.113.10 stands for the outside world: the
 *   Docker host answers it on its side and warp-1 on its side, so each answer tells which way a
 *   request went. Shown: routed through warp-1; warp-1 stopping (kill switch engaged for `app`,
 *   Docker's route back for `app-restore`); warp-1 starting again on a new address.
 * - join: a proxy `http-proxy` and an app `shop` (VIRTUAL_HOST) on its own project network; the
 *   proxy joins that network and reaches the app by name, and leaves it when the app stops.
 *
 * Every shown command is checked against what its heading claims (exit status, output); the demo
 * exits 1 if any check fails. Nothing of the host's Docker is touched; the engine and everything
 * in it are removed at the end.
 */
import { TestEngine } from "./engine.ts";
import { docker, dockernet, note, setup, step, unmet, waitUntil } from "./_demo-show.ts";

const OUTSIDE = "203.0.113.10";
const fetchOutside = ["wget", "-qO-", `http://${OUTSIDE}/`];
const fetchShop = ["wget", "-qO-", "http://shop:8080/"];
const addresses = ["inspect", "--format", "{{.Name}} {{.NetworkSettings.Networks.vpn.IPAddress}}"];

/** `sh -c` for a busybox httpd serving one page from /tmp (the test image's only writable dir). */
function httpd(page: string, port: number, first = ""): string[] {
  return ["sh", "-c", `${first}echo "${page}" >/tmp/index.html && exec httpd -f -p ${port} -h /tmp`];
}

/** `address` as a regular expression matching exactly it. */
function literal(address: string): string {
  return `${address.replaceAll(".", "\\.")}\\b`;
}

/** A `warp status` line: target, warp, then the rest of the columns matching `rest`. */
function statusLine(target: string, rest: string): RegExp {
  return new RegExp(`^${target}\\s+warp-1\\s+${rest}`, "m");
}

const engine = await TestEngine.start({ name: "dndemo", subnet: 98 });
const image = engine.image;
try {
  step("warp: a gateway and two targets, on a throwaway Docker engine");
  note(`DOCKER_HOST=${engine.host} (its own dockerd, in its own network namespace)`);
  note(`${OUTSIDE} stands for the outside: the Docker host answers it on its side, warp-1 on its side`);
  const addOutside = `ip addr add ${OUTSIDE}/32 dev lo && `;
  await setup(engine, ["network", "create", "--subnet", "10.99.0.0/24", "vpn"]);
  await setup(engine, ["run", "-d", "--name", "outside", "--network", "host", "--cap-add", "NET_ADMIN", image, ...httpd("answered by the Docker host", 80, addOutside)]);
  await setup(engine, ["run", "-d", "--name", "warp-1", "--network", "vpn", "--cap-add", "NET_ADMIN", image, ...httpd("answered by warp-1", 80, addOutside)]);
  await setup(engine, ["run", "-d", "--name", "app", "--network", "vpn", "--label", "network.warp.target=warp-1", image]);
  await setup(engine, ["run", "-d", "--name", "app-restore", "--network", "vpn", "--label", "network.warp.target=warp-1", "--label", "network.warp.on_down=restore", image]);
  await waitUntil(engine, "outside", fetchOutside);
  await waitUntil(engine, "warp-1", fetchOutside);
  const shown = await docker(engine, [...addresses, "warp-1", "app", "app-restore"]);
  const oldWarp = /^\/warp-1 (\S+)/m.exec(shown.stdout)?.[1] ?? "?";
  await docker(engine, ["exec", "app", "ip", "route", "get", OUTSIDE], { shows: /via 10\.99\.0\.1\b/ });
  await docker(engine, ["exec", "app", ...fetchOutside], { shows: /^answered by the Docker host$/m });

  step("what would change");
  await dockernet(engine, ["warp", "--once", "--dry-run"], { shows: new RegExp(`ip route replace default via ${literal(oldWarp)}`) });

  step("one reconcile: both targets go through warp-1");
  await dockernet(engine, ["warp", "--once"]);
  await dockernet(engine, ["warp", "status"], { shows: statusLine("app", `vpn\\s+${literal(oldWarp)}.*armed`) });
  await docker(engine, ["exec", "app", "ip", "route", "get", OUTSIDE], { shows: new RegExp(`via ${literal(oldWarp)}`) });
  await docker(engine, ["exec", "app", ...fetchOutside], { shows: /^answered by warp-1$/m });
  await docker(engine, ["exec", "app-restore", ...fetchOutside], { shows: /^answered by warp-1$/m });

  step("warp-1 stops: app's kill switch engages, app-restore gets Docker's route back");
  await docker(engine, ["stop", "-t", "1", "warp-1"]);
  await dockernet(engine, ["warp", "--once"]);
  await dockernet(engine, ["warp", "status"], { shows: statusLine("app", ".*engaged") });
  await docker(engine, ["exec", "app", "ip", "route", "show", "table", "211"], { shows: /^unreachable default/m });
  await docker(engine, ["exec", "app", "ip", "route", "get", OUTSIDE], { shows: /No route to host/, fails: true });
  await docker(engine, ["exec", "app", ...fetchOutside], { shows: /No route to host/, fails: true });
  await docker(engine, ["exec", "app-restore", "ip", "route", "get", OUTSIDE], { shows: /via 10\.99\.0\.1\b/ });
  await docker(engine, ["exec", "app-restore", ...fetchOutside], { shows: /^answered by the Docker host$/m });

  step("warp-1 starts again on a new address: both targets go through it again");
  note("meanwhile a new container takes warp-1's old address");
  await setup(engine, ["run", "-d", "--name", "db", "--network", "vpn", image]);
  await docker(engine, ["start", "warp-1"]);
  await waitUntil(engine, "warp-1", fetchOutside);
  const moved = await docker(engine, [...addresses, "db", "warp-1"], { shows: new RegExp(`^/db ${literal(oldWarp)}`, "m") });
  const newWarp = /^\/warp-1 (\S+)/m.exec(moved.stdout)?.[1] ?? "?";
  if (newWarp === oldWarp) unmet.push(`warp-1 came back on its old address ${oldWarp}`);
  await dockernet(engine, ["warp", "--once"]);
  await dockernet(engine, ["warp", "status"], { shows: statusLine("app-restore", `vpn\\s+${literal(newWarp)}`) });
  await docker(engine, ["exec", "app", ...fetchOutside], { shows: /^answered by warp-1$/m });
  await docker(engine, ["exec", "app-restore", ...fetchOutside], { shows: /^answered by warp-1$/m });

  step("join: a proxy, and an app on its own project network");
  await setup(engine, ["network", "create", "proxy"]);
  await setup(engine, ["network", "create", "shop_default"]);
  await setup(engine, ["run", "-d", "--name", "http-proxy", "--network", "proxy", "--dns-option", "timeout:1", "--dns-option", "attempts:1", image]);
  note("(--dns-option: this sandbox has no DNS server outside; unknown names fail after 1 s, not 10)");
  await setup(engine, ["run", "-d", "--name", "shop", "--network", "shop_default", "--env", "VIRTUAL_HOST=shop.example", image, ...httpd("hello from shop", 8080)]);
  await waitUntil(engine, "shop", ["wget", "-qO-", "http://127.0.0.1:8080/"]);
  await docker(engine, ["exec", "http-proxy", ...fetchShop], { shows: /bad address/, fails: true });

  step("what would change");
  await dockernet(engine, ["join", "--once", "--dry-run"], { shows: /docker network connect shop_default http-proxy/ });

  step("one reconcile: the proxy joins shop_default and reaches shop by name");
  await dockernet(engine, ["join", "--once"]);
  await dockernet(engine, ["join", "status"], { shows: /^shop_default\s+bridge\s+shop\s+yes/m });
  await docker(engine, ["exec", "http-proxy", ...fetchShop], { shows: /^hello from shop$/m });

  step("shop stops: the proxy leaves shop_default");
  await docker(engine, ["stop", "-t", "1", "shop"]);
  await dockernet(engine, ["join", "--once"]);
  await dockernet(engine, ["join", "status"], { shows: /^shop_default\s+bridge\s+-\s+no/m });
  await docker(engine, ["inspect", "--format", "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}", "http-proxy"], { shows: /^proxy\s*$/ });
} finally {
  await engine.stop();
}

if (unmet.length > 0) {
  console.error(`\ndemo: ${unmet.length} claim(s) not backed by the output above:\n  ${unmet.join("\n  ")}`);
  process.exit(1);
}
