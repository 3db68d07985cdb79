/** An image pull's progress stream (one JSON object a line) as typed steps. */
import type { PullProgress } from "./types.ts";

interface RawProgress {
  id?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  progressDetail?: { current?: number; total?: number };
}

/**
 * Reads Docker's pull stream to its end, telling each step; rejects with Docker's own message when
 * the stream carries an error (a pull fails inside a 200 answer: unknown tag, registry down).
 */
export function readPull(stream: NodeJS.ReadableStream, onProgress: (step: PullProgress) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    let failed: string | undefined;
    const line = (text: string) => {
      if (text.trim() === "") return;
      let raw: RawProgress;
      try {
        raw = JSON.parse(text) as RawProgress;
      } catch {
        return;
      }
      if (raw.error !== undefined || raw.errorDetail?.message !== undefined) {
        failed ??= raw.errorDetail?.message ?? raw.error;
        return;
      }
      const detail = raw.progressDetail ?? {};
      onProgress({
        layer: raw.id ?? "",
        status: raw.status ?? "",
        ...(typeof detail.current === "number" ? { current: detail.current } : {}),
        ...(typeof detail.total === "number" && detail.total > 0 ? { total: detail.total } : {}),
      });
    };
    stream.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const text of lines) line(text);
    });
    stream.on("end", () => {
      line(buffer);
      if (failed !== undefined) reject(new Error(failed));
      else resolve();
    });
    stream.on("error", reject);
  });
}
