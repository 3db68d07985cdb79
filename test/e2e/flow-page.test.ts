/**
 * The page `dockernet flow serve` answers `GET /` with, in a real browser (Debian's chromium,
 * driven by playwright-core; no browser download), against the real server and a throwaway
 * engine. A second client, a plain socket.io-client, plays the other program driving the same
 * manager: what it does shows up on the page, and what the page does shows up for it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { Daemon, repoRoot } from "../support/dockernet.ts";
import { useTestEngine } from "../support/engine.ts";
import { connect, ok } from "../support/flow-server.ts";
import { freePort } from "../support/ports.ts";
import { TEST_IMAGE } from "../support/image.ts";

setDefaultTimeout(120_000);

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = join(repoRoot, ".tmp/flow-page.png");
/** Where a failing run leaves what the page looked like. */
const FAILURE_SCREENSHOT = join(repoRoot, ".tmp/flow-page-failure.png");

/** The token the page keeps for the tab (evaluated in the page). */
const storedToken = 'sessionStorage.getItem("dockernet.flow.token")';

describe("the flow page", () => {
  const engine = useTestEngine({ name: "dntest-flowpage", subnet: 113 });
  let browser: Browser;
  let dir = "";
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (Debian package chromium): run test/support/setup.sh`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });

  afterEach(async () => {
    // Newest first: the manager's containers (they carry its label, not the test engine's, so
    // they go through the API), then the clients, then the server itself.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = "";
  });

  afterAll(async () => {
    await browser?.close();
  });

  test("authenticate, see another client's container, stop it from the page, follow the activity", async () => {
    dir = await mkdtemp(join(tmpdir(), "dnfp-"));
    const url = `http://127.0.0.1:${await freePort()}`;
    const server = await Daemon.start(
      engine,
      ["flow", "serve", "--listen", url.slice("http://".length), "--socket-dir", join(dir, "s"), "--token-file", join(dir, "token")],
      { ready: "flow started" },
    );
    cleanups.push(() => server.stop());
    const token = (await readFile(join(dir, "token"), "utf8")).trim();
    expect(token.length).toBeGreaterThan(0);

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    cleanups.push(() => page.close());
    const problems: string[] = [];
    const requested: string[] = [];
    page.on("request", (request) => void requested.push(request.url()));
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()}`);
    });
    const conn = page.locator("#conn");
    // A failure says what the page showed, what it complained about and what the server logged.
    const explained = async (error: unknown) => {
      await mkdir(join(repoRoot, ".tmp"), { recursive: true });
      await page.screenshot({ path: FAILURE_SCREENSHOT, fullPage: true }).catch(() => {});
      const text = await page.locator("body").innerText().catch(() => "(no page)");
      const context = [`page (screenshot ${FAILURE_SCREENSHOT}):`, text, ...problems, "server:", ...server.stderr.slice(-15)];
      return new Error(`${(error as Error).message}\n${context.join("\n")}`, { cause: error });
    };

    try {
      const response = await page.goto(`${url}/`);
      expect(await page.title()).toBe("dockernet flow");
      // Its own files only, admitted by this response's nonce; the official client's io().
      const policy = response?.headers()["content-security-policy"] ?? "";
      expect(policy).toMatch(/script-src 'nonce-[A-Za-z0-9+/]{22}=='; style-src 'nonce-/);
      expect(policy).not.toContain("unsafe");
      expect(await page.evaluate("typeof io === 'function' && typeof io.Manager === 'function' && typeof io.Socket")).toBe("function");

      // A wrong token is refused, visibly, and not kept for the next reload.
      await page.getByLabel("API token").fill(`${token}-wrong`);
      await page.getByRole("button", { name: "Connect" }).click();
      await page.getByRole("alert").getByText("unauthorized").waitFor();
      expect(await conn.getAttribute("data-state")).toBe("refused");
      expect(await page.evaluate(storedToken)).toBeNull();

      // The right one connects.
      await page.getByLabel("API token").fill(token);
      await page.getByRole("button", { name: "Connect" }).click();
      await page.locator("#conn[data-state=connected]").waitFor();
      await page.getByText("No containers yet").waitFor();
      // It is kept for the tab's session: a reload connects by itself.
      expect(await page.evaluate(storedToken)).toBe(token);
      await page.reload();
      await page.locator("#conn[data-state=connected]").waitFor();

      // Another program creates and starts a container: it appears on the page, running.
      const other = await connect(url, token);
      cleanups.push(async () => other.close());
      const created = await ok<{ id: string; name: string }>(other, "create_container", { image: TEST_IMAGE, name: "page-demo" });
      cleanups.push(() => ok(other, "delete_container", { container_id: created.id }));
      await ok(other, "start_container", { container_id: created.id });
      const row = page.locator("#container-rows tr", { has: page.getByRole("cell", { name: "page-demo", exact: true }) });
      await row.locator(".state", { hasText: /^running$/ }).waitFor({ timeout: 30_000 });
      expect(await row.locator("td.id").textContent()).toBe(created.id.slice(0, 12));
      expect(await row.locator("td.image").textContent()).toBe(TEST_IMAGE);

      // Stopped from the page: the other client sees it stopped, and so does the page.
      await row.getByRole("button", { name: "stop page-demo", exact: true }).click();
      await row.locator(".state", { hasText: /^exited$/ }).waitFor({ timeout: 30_000 });
      const status = await ok<{ state: string; socket_connected: boolean }>(other, "get_status", { container_id: created.id });
      expect(status.state).toBe("exited");
      expect(status.socket_connected).toBe(false);
      await row.getByRole("button", { name: "start page-demo", exact: true }).waitFor();
      expect(await row.getByRole("button", { name: "stop page-demo", exact: true }).isDisabled()).toBe(true);

      // The activity feed, newest first, has the whole story.
      const entry = (kind: string) => page.locator("#feed li", { hasText: "page-demo" }).filter({ has: page.locator(".kind", { hasText: new RegExp(`^${kind}$`) }) });
      for (const kind of ["created", "started", "stopped"]) await entry(kind).first().waitFor();
      const kinds = await page.locator("#feed li .kind").allTextContents();
      expect(kinds.indexOf("stopped")).toBeLessThan(kinds.indexOf("started"));
      expect(kinds.indexOf("started")).toBeLessThan(kinds.indexOf("created"));

      // A message: bad JSON is caught before sending; a container without an agent answers an error.
      await page.getByLabel("Container", { exact: true }).selectOption({ label: "page-demo" });
      await page.getByLabel("Command").fill("ping");
      await page.getByLabel("Data (JSON)").fill('{"hello":');
      await page.getByRole("button", { name: "Send", exact: true }).click();
      await page.locator("#msg-data-err", { hasText: "Not valid JSON" }).waitFor();
      expect(await page.getByLabel("Data (JSON)").getAttribute("aria-invalid")).toBe("true");
      await page.getByLabel("Data (JSON)").fill('{"hello": "page"}');
      await page.getByLabel("Timeout (ms)").fill("1000");
      await page.getByRole("button", { name: "Send", exact: true }).click();
      await page.locator("#reply-head.bad", { hasText: /^(socket_error|timeout): .*page-demo/ }).waitFor();
      expect(JSON.parse((await page.locator("#reply").textContent()) ?? "")).toMatchObject({ error: true, error_type: expect.stringMatching(/^(socket_error|timeout)$/) });

      await mkdir(join(repoRoot, ".tmp"), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(problems).toEqual([]);
      expect(requested.filter((address) => !address.startsWith(`${url}/`) && !address.startsWith("data:"))).toEqual([]);
      expect(await server.exited(0)).toBeUndefined();
    } catch (error) {
      throw await explained(error);
    }
  });
});
