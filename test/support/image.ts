/**
 * The busybox test image: no registry is reachable, so it is imported from a tar of the host's
 * static busybox plus applet symlinks.
 */
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { exec, which, type ExecResult } from "./_exec.ts";

/** Runs the docker CLI against one engine (see `TestEngine.docker`). */
export type DockerFn = (args: string[], options?: { input?: string; allowFail?: boolean }) => Promise<ExecResult>;

/** Tag of the test image in every test engine. */
export const TEST_IMAGE = "dockernet-test:busybox";

/** Busybox applets linked into the image's /bin. */
export const APPLETS = [
  "sh", "ip", "sleep", "httpd", "nc", "wget", "cat", "ls", "ping", "route", "echo", "true", "false",
  "ifconfig", "hostname", "id", "env", "grep",
] as const;

/** True when the ELF file has a PT_INTERP header, i.e. needs a dynamic loader absent from the image. */
function isDynamicElf(elf: Buffer): boolean {
  if (elf.readUInt32BE(0) !== 0x7f454c46) return false;
  const is64 = elf[4] === 2;
  const le = elf[5] === 1;
  const u16 = (at: number) => (le ? elf.readUInt16LE(at) : elf.readUInt16BE(at));
  const u32 = (at: number) => (le ? elf.readUInt32LE(at) : elf.readUInt32BE(at));
  const phoff = is64 ? Number(le ? elf.readBigUInt64LE(0x20) : elf.readBigUInt64BE(0x20)) : u32(0x1c);
  const [entsize, count] = is64 ? [u16(0x36), u16(0x38)] : [u16(0x2a), u16(0x2c)];
  for (let i = 0; i < count; i++) if (u32(phoff + i * entsize) === 3 /* PT_INTERP */) return true;
  return false;
}

/** Path of a statically linked busybox on this machine; throws with a setup hint otherwise. */
export async function findBusybox(): Promise<string> {
  for (const path of ["/bin/busybox", await which("busybox")]) {
    if (!path) continue;
    const elf = await readFile(path).catch(() => undefined);
    if (!elf) continue;
    if (isDynamicElf(elf)) throw new Error(`${path} is dynamically linked: install busybox-static (run test/support/setup.sh)`);
    return path;
  }
  throw new Error("busybox not found: run test/support/setup.sh (installs busybox-static)");
}

/** More in an image built by {@link buildTestImage}, on top of the busybox root. */
export interface ImageExtras {
  /** More busybox applets linked into /bin (e.g. `sed`, `pidof`, `kill`). */
  applets?: readonly string[];
  /** Files by their path in the image: a host file (copied, links followed) or a text with its mode (default 0755). */
  files?: Record<string, string | { text: string; mode?: number }>;
  /** The image's CMD instead of `sleep infinity`. */
  cmd?: readonly string[];
}

/** Imports the busybox test image as `tag` through `docker` (`CMD ["sleep","infinity"]`, unless `extras` say otherwise). */
export async function buildTestImage(docker: DockerFn, tag: string = TEST_IMAGE, extras: ImageExtras = {}): Promise<void> {
  const busybox = await findBusybox();
  const work = await mkdtemp(join(tmpdir(), "dockernet-image-"));
  try {
    const root = join(work, "root");
    for (const sub of ["bin", "etc", "root", "tmp"]) await mkdir(join(root, sub), { recursive: true });
    await chmod(join(root, "tmp"), 0o1777);
    await copyFile(busybox, join(root, "bin/busybox"));
    await chmod(join(root, "bin/busybox"), 0o755);
    for (const applet of new Set([...APPLETS, ...(extras.applets ?? [])])) await symlink("busybox", join(root, "bin", applet));
    await writeFile(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
    await writeFile(join(root, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
    for (const [path, file] of Object.entries(extras.files ?? {})) {
      const target = join(root, path);
      await mkdir(dirname(target), { recursive: true });
      if (typeof file === "string") await copyFile(file, target);
      else await writeFile(target, file.text);
      await chmod(target, typeof file === "string" ? (await stat(file)).mode & 0o7777 : (file.mode ?? 0o755));
    }
    const tar = join(work, "rootfs.tar");
    await exec("tar", ["-C", root, "--numeric-owner", "--owner=0", "--group=0", "-cf", tar, "."]);
    await docker(["import", "-c", `CMD ${JSON.stringify(extras.cmd ?? ["sleep", "infinity"])}`, tar, tag]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
