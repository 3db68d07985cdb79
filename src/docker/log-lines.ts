/** Lines of a container's log as Docker sends them without a TTY. */

/** Characters of one log line held before it is passed on without its end. */
const maxLineLength = 1024 * 1024;

/** Splits Docker's multiplexed log stream (8-byte frame headers) into stdout and stderr lines. */
export function demuxLines(onLine: (stream: "stdout" | "stderr", line: string) => void): (chunk: Buffer) => void {
  let buffer = Buffer.alloc(0);
  const partial = { stdout: "", stderr: "" };
  return (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 8) {
      const size = buffer.readUInt32BE(4);
      if (buffer.length < 8 + size) break;
      const which = buffer[0] === 2 ? "stderr" : "stdout";
      const text = partial[which] + buffer.subarray(8, 8 + size).toString("utf8");
      buffer = buffer.subarray(8 + size);
      const lines = text.split("\n");
      partial[which] = lines.pop() ?? "";
      // A line that never ends is passed on in pieces rather than held without bound.
      if (partial[which].length > maxLineLength) {
        onLine(which, partial[which]);
        partial[which] = "";
      }
      for (const line of lines) onLine(which, line);
    }
  };
}
