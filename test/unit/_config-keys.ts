/**
 * How many keys a config (or its defaults) holds, section by section. A block (`[bridge.hetzner]`)
 * is a table in its section, so its keys count, not the table; a key whose value is a table
 * (`flow.default_limits`) is one key.
 */
export function keyCount(config: object, blocks: readonly string[] = ["hetzner"]): number {
  const keysOf = (section: object): number =>
    Object.entries(section).reduce((sum: number, [name, value]) => sum + (blocks.includes(name) ? keysOf(value as object) : 1), 0);
  return Object.values(config).reduce((sum: number, section) => sum + keysOf(section as object), 0);
}
