/**
 * docker-modem builds every tcp:// and ssh:// request with Node's `url.parse()`, which prints a
 * DEP0169 deprecation warning on the user's terminal at the first request. The URL it parses is
 * ours (checked in host.ts), and the warning names nothing a user can act on, so that one warning
 * is dropped; every other warning is printed as before.
 */
let installed = false;

/** Drops DEP0169 (`url.parse()`) warnings from now on; called when a client for a remote engine is made. */
export function quietUrlParseWarning(): void {
  if (installed) return;
  installed = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const options = rest[0];
    const code = typeof options === "object" && options !== null ? (options as { code?: unknown }).code : rest[1];
    if (code === "DEP0169" || (warning instanceof Error && (warning as NodeJS.ErrnoException).code === "DEP0169")) return;
    emit(warning, ...rest);
  }) as typeof process.emitWarning;
}
