/** What the manager tells clients happened: `activity` events, for people to read. */
export type ActivityKind = "created" | "started" | "stopped" | "restarted" | "updated" | "deleted" | "message" | "actor_event" | "pulling" | "pulled";

export interface Activity {
  time: string;
  kind: ActivityKind;
  container_id: string;
  name: string;
  message: string;
  details?: Record<string, unknown>;
}

/** Keys whose values are secrets by their look. */
const secretKey = /TOKEN|SECRET|PASSWORD|KEY/i;

/** The environment with the values of secret-looking keys replaced, for activity and logs. */
export function redactEnvironment(environment: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(environment ?? {}).map(([key, value]) => [key, secretKey.test(key) ? "[redacted]" : value]));
}

/** An activity entry stamped now. */
export function activity(kind: ActivityKind, container: { id: string; name: string }, message: string, details?: Record<string, unknown>): Activity {
  return { time: new Date().toISOString(), kind, container_id: container.id, name: container.name, message, ...(details ? { details } : {}) };
}
