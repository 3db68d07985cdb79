import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { containerDir, readContainerFiles } from "../../src/modes/warp/runtime/bundle.ts";
import { writeAtomically } from "../../src/modes/warp/runtime/daemon-json-file.ts";

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "dockernet-runtime-files-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const id = "a".repeat(64);
const other = "b".repeat(64);

async function bundleWithHostname(source: string | undefined): Promise<string> {
  const bundle = join(dir, "bundle");
  await mkdir(bundle, { recursive: true });
  const mounts = source === undefined ? [{ destination: "/proc", source: "proc" }] : [{ destination: "/etc/hostname", source }];
  await writeFile(join(bundle, "config.json"), JSON.stringify({ mounts }));
  return bundle;
}

describe("containerDir", () => {
  test("the container's own directory under Docker's data root", async () => {
    const bundle = await bundleWithHostname(`/var/lib/docker/containers/${id}/hostname`);
    expect(await containerDir(bundle, id)).toBe(`/var/lib/docker/containers/${id}`);
  });

  test("--network container:X mounts the other container's hostname: still this container's directory", async () => {
    const bundle = await bundleWithHostname(`/var/lib/docker/100000.100000/containers/${other}/hostname`);
    expect(await containerDir(bundle, id)).toBe(`/var/lib/docker/100000.100000/containers/${id}`);
  });

  test("not made by Docker (no hostname mount, or one outside a data root): undefined", async () => {
    expect(await containerDir(await bundleWithHostname(undefined), id)).toBeUndefined();
    expect(await containerDir(await bundleWithHostname("/etc/hostname"), id)).toBeUndefined();
    expect(await containerDir(await bundleWithHostname(`/srv/containers/${id}/hostname`), "../../etc")).toBeUndefined();
  });

  test("an unreadable bundle fails with the container and the file", async () => {
    await expect(containerDir(join(dir, "missing"), id)).rejects.toThrow(`container ${id.slice(0, 12)}: cannot read ${join(dir, "missing", "config.json")}`);
  });
});

describe("writeAtomically", () => {
  test("keeps the old file's mode whatever the umask, and a backup of the old text", async () => {
    const file = join(dir, "daemon.json");
    await writeFile(file, "{}\n", { mode: 0o600 });
    const previous = process.umask(0o077);
    try {
      expect(await writeAtomically(file, '{"a":1}\n', true)).toBe(`${file}.dockernet-backup`);
    } finally {
      process.umask(previous);
    }
    expect(await readFile(file, "utf8")).toBe('{"a":1}\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(`${file}.dockernet-backup`, "utf8")).toBe("{}\n");
    expect((await stat(`${file}.dockernet-backup`)).mode & 0o777).toBe(0o600);
  });

  test("a new file is 0644 under a strict umask; nothing temporary is left", async () => {
    const file = join(dir, "daemon.json");
    const previous = process.umask(0o077);
    try {
      expect(await writeAtomically(file, "{}\n", false)).toBeUndefined();
    } finally {
      process.umask(previous);
    }
    expect((await stat(file)).mode & 0o777).toBe(0o644);
    expect(await readdir(dir)).toEqual(["daemon.json"]);
  });

  test("a symlinked daemon.json is written where it points, and stays a link", async () => {
    const real = join(dir, "real.json");
    const link = join(dir, "daemon.json");
    await writeFile(real, "{}\n");
    await symlink(real, link);
    await writeAtomically(link, '{"b":2}\n', true);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(real);
    expect(await readFile(real, "utf8")).toBe('{"b":2}\n');
  });

  test("a failed write leaves the old file and no temporary file", async () => {
    const file = join(dir, "daemon.json");
    await writeFile(file, "{}\n");
    await mkdir(join(dir, `daemon.json.dockernet-${process.pid}`)); // taken: the exclusive create fails
    await expect(writeAtomically(file, '{"c":3}\n', true)).rejects.toThrow(`cannot write ${file}`);
    expect(await readFile(file, "utf8")).toBe("{}\n");
    expect((await stat(join(dir, `daemon.json.dockernet-${process.pid}`))).isDirectory()).toBe(true);
  });
});

describe("readContainerFiles", () => {
  test("name, string labels, networks, and published ports: -p bindings and, with -P, every exposed port", async () => {
    await writeFile(join(dir, "config.v2.json"), JSON.stringify({ Name: "/app", Config: { Labels: { a: "1", b: 2 }, ExposedPorts: { "80/tcp": {}, "53/udp": {} } }, NetworkSettings: { Networks: { vpn: {} } } }));
    await writeFile(join(dir, "hostconfig.json"), JSON.stringify({ NetworkMode: "vpn", PortBindings: { "8443/tcp": [{ HostPort: "" }] }, PublishAllPorts: true }));
    const files = await readContainerFiles(dir, id, 42);
    expect(files).toMatchObject({ id, name: "app", pid: 42, labels: { a: "1" }, networks: [{ name: "vpn" }], networkMode: "vpn" });
    expect(files.published).toEqual([
      { port: 80, proto: "tcp" },
      { port: 53, proto: "udp" },
      { port: 8443, proto: "tcp" },
    ]);
    await writeFile(join(dir, "hostconfig.json"), JSON.stringify({ NetworkMode: "vpn", PublishAllPorts: false }));
    expect((await readContainerFiles(dir, id, 42)).published).toEqual([]);
  });
});
