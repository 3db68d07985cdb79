/**
 * Reads the client's side of a relayed Docker API connection, without changing a byte, to find
 * `POST /containers/create` bodies and warn about bind mounts of local paths: the remote engine
 * resolves them on the remote host. Stops reading at anything it does not need to follow
 * (chunked bodies, upgrades, a head over 64 KiB).
 */
const maxHead = 64 * 1024;
const maxBody = 1024 * 1024;

export interface CreateRequest {
  /** Bind sources named in HostConfig.Binds and HostConfig.Mounts (Type bind). */
  binds: string[];
  /** The container's name (`?name=`, as `docker run --name` sends it); absent: Docker picks one. */
  name?: string;
  /** The image asked for, which names a container that has no name yet. */
  image?: string;
}

/** The request's `?name=`, if any. */
function nameOf(path: string): string | undefined {
  const query = path.indexOf("?");
  return (query < 0 ? undefined : new URLSearchParams(path.slice(query + 1)).get("name")) || undefined;
}

function bindsOf(body: string): Omit<CreateRequest, "name"> {
  let parsed: { Image?: unknown; HostConfig?: { Binds?: unknown; Mounts?: unknown } } | null;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { binds: [] };
  }
  // The body is the client's: `null`, a number or an array must not throw here.
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { binds: [] };
  const binds = Array.isArray(parsed.HostConfig?.Binds) ? parsed.HostConfig.Binds : [];
  const mounts = Array.isArray(parsed.HostConfig?.Mounts) ? parsed.HostConfig.Mounts : [];
  return {
    binds: [
      ...binds.flatMap((bind) => (typeof bind === "string" && bind.startsWith("/") ? [bind.split(":")[0] as string] : [])),
      ...mounts.flatMap((mount: { Type?: unknown; Source?: unknown }) => (mount?.Type === "bind" && typeof mount.Source === "string" ? [mount.Source] : [])),
    ],
    ...(typeof parsed.Image === "string" ? { image: parsed.Image } : {}),
  };
}

/** Feeds the client's bytes in order; calls `onCreate` for each containers/create request seen. */
export function createSniffer(onCreate: (request: CreateRequest) => void): (chunk: Buffer) => void {
  let state: "head" | "body" | "off" = "head";
  let head = Buffer.alloc(0);
  let remaining = 0;
  let body: Buffer[] | undefined;
  let name: string | undefined;
  const feed = (chunk: Buffer): void => {
    if (state === "off" || chunk.length === 0) return;
    if (state === "body") {
      const part = chunk.subarray(0, remaining);
      remaining -= part.length;
      body?.push(part);
      if (remaining > 0) return;
      if (body) onCreate({ ...bindsOf(Buffer.concat(body).toString("utf8")), ...(name ? { name } : {}) });
      body = undefined;
      state = "head";
      return feed(chunk.subarray(part.length));
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) {
      if (head.length > maxHead) state = "off";
      return;
    }
    const lines = head.subarray(0, end).toString("latin1").split("\r\n");
    const rest = head.subarray(end + 4);
    head = Buffer.alloc(0);
    const [method, path] = (lines[0] ?? "").split(" ");
    const headers = new Map(lines.slice(1).map((line) => [line.slice(0, line.indexOf(":")).trim().toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
    if (headers.has("transfer-encoding") || headers.get("upgrade") !== undefined || /\/(attach|exec\/[^/]+\/start)$/.test(path?.split("?")[0] ?? "")) {
      state = "off";
      return;
    }
    remaining = Number(headers.get("content-length") ?? 0);
    const isCreate = method === "POST" && /^(\/v[\d.]+)?\/containers\/create(\?|$)/.test(path ?? "");
    body = isCreate && remaining <= maxBody ? [] : undefined;
    name = isCreate ? nameOf(path ?? "") : undefined;
    state = "body";
    if (remaining === 0) {
      state = "head";
      if (body) onCreate({ binds: [], ...(name ? { name } : {}) });
      body = undefined;
    }
    feed(rest);
  };
  return feed;
}
