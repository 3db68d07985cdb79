/**
 * The table runner of the "first hour" e2e files (issue 19): a row is a command line run against
 * the compiled binary the way a new user runs it (as `nobody` where root would hide a permission
 * problem), and what that user must see on each stream, with the exit code.
 */
import { expect } from "bun:test";
import { readFile } from "node:fs/promises";
import { exec } from "./_exec.ts";

/** Runs a command as `nobody`: root reads and writes every file, which would hide a permission problem. */
export const asNobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] as const;

/** One row: a command line, who runs it, and what the user must see. */
export interface FirstHourRow {
  /** The item number and what it is about. */
  item: string;
  /** Words; `{name}` is filled from the file's scene. */
  args: string[];
  nobody?: boolean;
  exit: number;
  /** Fragments stdout must hold. */
  stdout?: string[];
  /** Fragments stderr must hold (in this order where the file asks for `stderrInOrder`). */
  stderr?: string[];
  /** Fragments that must appear on neither stream. */
  never?: string[];
  /** stdout is one JSON document (`true`), holding this (an object). */
  json?: true | Record<string, unknown>;
  /** A file the command wrote, and fragments it must hold. */
  file?: { path: string; holds: string[] };
}

/** How a file runs its rows. */
export interface FirstHourOptions {
  binary: string;
  /** What `{name}` stands for in a row's words and fragments. */
  scene: Readonly<Record<string, string>>;
  /** The whole environment of a row's command: a clean one, so no config of this machine leaks in. */
  env(row: FirstHourRow): NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Whether a row's stderr fragments must appear in the order given. */
  stderrInOrder?: boolean;
}

const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "");

/** Runs one row's command and checks what it printed, its exit code and the file it wrote. */
export async function runFirstHourRow(row: FirstHourRow, options: FirstHourOptions): Promise<void> {
  const fill = (text: string) => text.replace(/\{(\w+)\}/g, (whole, name: string) => options.scene[name] ?? whole);
  const words = row.args.map(fill);
  const [file, args] = row.nobody ? [asNobody[0], [...asNobody.slice(1), options.binary, ...words]] : [options.binary, words];
  const result = await exec(file, args, { env: options.env(row), allowFail: true, timeoutMs: options.timeoutMs });
  const [stdout, stderr] = [plain(result.stdout), plain(result.stderr)];
  // The whole output in the failure message: a wrong exit code is read beside what was printed.
  expect({ item: row.item, exit: result.code, stdout, stderr }).toMatchObject({ exit: row.exit });
  for (const fragment of row.stdout ?? []) expect(stdout).toContain(fill(fragment));
  let from = 0;
  for (const fragment of (row.stderr ?? []).map(fill)) {
    expect(stderr.slice(from)).toContain(fragment);
    if (options.stderrInOrder) from = stderr.indexOf(fragment, from) + fragment.length;
  }
  for (const fragment of row.never ?? []) expect(`${stdout}\n${stderr}`).not.toContain(fill(fragment));
  if (row.json) {
    const document: unknown = JSON.parse(stdout);
    if (row.json !== true) expect(document).toMatchObject(row.json);
  }
  for (const fragment of row.file?.holds ?? []) expect(await readFile(fill(row.file?.path ?? ""), "utf8")).toContain(fill(fragment));
}
