/** How many keys a config (or its defaults) holds: a block (`[bridge.hetzner]`) is a table in its section, so its keys count, not the table. */
export function keyCount(table: object): number {
  return Object.values(table).reduce((sum: number, value) => sum + (value !== null && typeof value === "object" && !Array.isArray(value) ? keyCount(value) : 1), 0);
}
