/** Globs compiled once: the pattern is the config's, and every Docker event is matched against it. */
const compiled = new Map<string, RegExp>();

/** Whether `name` matches a glob with `*` (any run) and `?` (one character), whole-name. */
export function matchGlob(pattern: string, name: string): boolean {
  let regex = compiled.get(pattern);
  if (regex === undefined) {
    const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    compiled.set(pattern, (regex = new RegExp(`^${source}$`)));
  }
  return regex.test(name);
}
