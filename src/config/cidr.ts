import { isIPv4, isIPv6 } from "node:net";

/** A network in canonical form: host bits zeroed, IPv6 written exactly as `ip` prints it. */
export interface Cidr {
  /** `10.0.0.0/8`, `2001:db8::/32` */
  cidr: string;
  family: 4 | 6;
}

/**
 * Parse `address/prefix` (or a bare address, meaning /32 or /128) into canonical form.
 * Returns undefined when the text is not a CIDR; callers word the error themselves.
 * Written by hand on `node:net` so that what `ip` prints and what a label says compare equal.
 */
export function parseCidr(text: string): Cidr | undefined {
  const parts = text.split("/");
  if (parts.length > 2) return undefined;
  const [address = "", prefixText] = parts;
  // isIPv6 accepts zone ids (`fe80::1%eth0`); a zone means nothing in a route rule.
  if (address.includes("%")) return undefined;
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (family === undefined) return undefined;
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (prefixText !== undefined) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
    prefix = Number(prefixText);
    if (prefix > bits) return undefined;
  }
  if (family === 4) {
    const network = maskBytes(ipv4Bytes(address), prefix);
    return { cidr: `${network.join(".")}/${prefix}`, family };
  }
  const groups = ipv6Groups(address);
  if (groups === undefined) return undefined;
  const network = toGroups(maskBytes(fromGroups(groups), prefix));
  return { cidr: `${compressIPv6(network)}/${prefix}`, family };
}

function ipv4Bytes(address: string): number[] {
  return address.split(".").map(Number);
}

/** Zero every bit after the first `prefix` bits. */
function maskBytes(bytes: number[], prefix: number): number[] {
  return bytes.map((byte, index) => {
    const keep = Math.max(0, Math.min(8, prefix - index * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
}

/** Expand an IPv6 address (already checked by isIPv6) to eight 16-bit groups. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address;
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    // An embedded IPv4 tail (`::ffff:1.2.3.4`) stands for the last two groups.
    const [a = 0, b = 0, c = 0, d = 0] = ipv4Bytes(tail);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  const parse = (half: string | undefined): number[] =>
    half ? half.split(":").map((group) => Number.parseInt(group, 16)) : [];
  const head = parse(halves[0]);
  const rest = parse(halves[1]);
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  return [...head, ...new Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...rest];
}

function fromGroups(groups: number[]): number[] {
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}

function toGroups(bytes: number[]): number[] {
  const groups: number[] = [];
  for (let index = 0; index < bytes.length; index += 2) {
    groups.push(((bytes[index] ?? 0) << 8) | (bytes[index + 1] ?? 0));
  }
  return groups;
}

/**
 * The text `ip` prints (glibc's inet_ntop): RFC 5952 (lower case, no leading zeros, the longest
 * run of 2+ zero groups as `::`, the first one on a tie), except that an address whose first six
 * groups are zero (`::1.2.3.4`) or that is IPv4-mapped (`::ffff:1.2.3.4`) ends in dotted IPv4.
 * Other embedded forms (`64:ff9b::102:304`) stay hexadecimal, as `ip` prints them.
 */
function compressIPv6(groups: number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < groups.length; ) {
    if (groups[start] !== 0) {
      start += 1;
      continue;
    }
    let end = start;
    while (end < groups.length && groups[end] === 0) end += 1;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = groups.map((group) => group.toString(16));
  // A run of 6 zeros from the start means the 7th group is not zero; `::2` (a run of 7) stays hex.
  if (bestStart === 0 && (bestLength === 6 || (bestLength === 5 && groups[5] === 0xffff))) {
    const dotted = fromGroups(groups.slice(6)).join(".");
    return bestLength === 5 ? `::ffff:${dotted}` : `::${dotted}`;
  }
  if (bestStart < 0) return hex.join(":");
  const head = hex.slice(0, bestStart).join(":");
  const tail = hex.slice(bestStart + bestLength).join(":");
  return `${head}::${tail}`;
}
