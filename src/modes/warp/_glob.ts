/** Whether `name` matches a glob with `*` (any run) and `?` (one character), whole-name. */
export function matchGlob(pattern: string, name: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`).test(name);
}
