/**
 * A tar archive (POSIX ustar, with pax records for long names) written from entries held in
 * memory: what update_container sends is exactly what was checked, with the owner and modes it
 * chose, and nothing is read from the host while it is written.
 */
import { Buffer } from "node:buffer";
import { FlowError } from "../protocol/replies.ts";

/** One entry: a directory, a regular file with its content, or a symlink with its target. */
export type TarEntry =
  | { type: "directory"; path: string; mode: number }
  | { type: "file"; path: string; mode: number; content: Buffer }
  | { type: "symlink"; path: string; target: string };

const block = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function header(fields: { name: string; mode: number; uid: number; gid: number; size: number; mtime: number; type: string; linkname?: string }): Buffer {
  const buffer = Buffer.alloc(block);
  buffer.write(fields.name, 0, 100, "utf8");
  buffer.write(octal(fields.mode, 8), 100, "ascii");
  buffer.write(octal(fields.uid, 8), 108, "ascii");
  buffer.write(octal(fields.gid, 8), 116, "ascii");
  buffer.write(octal(fields.size, 12), 124, "ascii");
  buffer.write(octal(fields.mtime, 12), 136, "ascii");
  buffer.write(" ".repeat(8), 148, "ascii");
  buffer.write(fields.type, 156, "ascii");
  if (fields.linkname) buffer.write(fields.linkname, 157, 100, "utf8");
  buffer.write("ustar\u000000", 257, "ascii");
  let sum = 0;
  for (const byte of buffer) sum += byte;
  buffer.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return buffer;
}

function padded(content: Buffer): Buffer[] {
  const rest = content.length % block;
  return rest === 0 ? [content] : [content, Buffer.alloc(block - rest)];
}

/** A pax record `LEN key=value\n`, LEN counting the whole record, itself included. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return `${length}${body}`;
}

/** The largest id a ustar header holds (7 octal digits); larger ones go in pax records. */
const maxHeaderId = 0o7777777;

/**
 * A path the archive may hold: relative, no empty, `.` or `..` component, no NUL. Entries come
 * from readdir, so this never fires for them; it keeps the writer from ever placing a file outside
 * the directory the archive is unpacked in, whoever calls it.
 */
function checkedPath(path: string): string {
  const parts = path.split("/");
  if (path.includes("\0") || parts.some((part) => part === "" || part === "." || part === "..")) throw new FlowError("validation_error", `code_path: ${JSON.stringify(path)} cannot be an archive entry (empty, \`.\` or \`..\` component); nothing was changed`, { field: "code_path", path });
  return path;
}

/** The archive of `entries`, each owned by `owner`, in the order given (parents before children). */
export function writeTar(entries: readonly TarEntry[], owner: { uid: number; gid: number }, mtime = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [];
  const bigIds = owner.uid > maxHeaderId || owner.gid > maxHeaderId;
  const ids = bigIds ? paxRecord("uid", String(owner.uid)) + paxRecord("gid", String(owner.gid)) : "";
  for (const entry of entries) {
    const name = entry.type === "directory" ? `${checkedPath(entry.path)}/` : checkedPath(entry.path);
    const linkname = entry.type === "symlink" ? entry.target : "";
    const long = Buffer.byteLength(name) > 99 || Buffer.byteLength(linkname) > 99;
    if (long || bigIds) {
      const pax = Buffer.from((long ? paxRecord("path", name) + (linkname ? paxRecord("linkpath", linkname) : "") : "") + ids, "utf8");
      parts.push(header({ name: "././@PaxHeader", mode: 0o644, uid: 0, gid: 0, size: pax.length, mtime, type: "x" }), ...padded(pax));
    }
    const base = { name: long ? name.slice(0, 99) : name, uid: Math.min(owner.uid, maxHeaderId), gid: Math.min(owner.gid, maxHeaderId), mtime };
    if (entry.type === "directory") parts.push(header({ ...base, mode: entry.mode, size: 0, type: "5" }));
    else if (entry.type === "symlink") parts.push(header({ ...base, mode: 0o777, size: 0, type: "2", linkname: long ? "" : linkname }));
    else parts.push(header({ ...base, mode: entry.mode, size: entry.content.length, type: "0" }), ...padded(entry.content));
  }
  parts.push(Buffer.alloc(block * 2));
  return Buffer.concat(parts);
}
