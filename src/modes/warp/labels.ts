import * as v from "valibot";
import { parseRouteRules, type RouteRule } from "../../config/route-rule.ts";
import { gatewayDownActions, type GatewayDownAction } from "./config.ts";

/** The labels of a target container, validated. */
export interface TargetLabels {
  target: string;
  network?: string;
  routes?: RouteRule[];
  onDown?: GatewayDownAction;
  mtu?: number;
}

const maxLabelLength = 256;

function quoted(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
}

// Docker's own rules for container and network names.
const containerName = v.pipe(
  v.string(),
  v.maxLength(maxLabelLength, (issue) => `${quoted(String(issue.input))} is too long (${String(issue.input).length} characters)`),
  v.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, (issue) => `${quoted(String(issue.input))} is not a container name`),
);
const networkName = v.pipe(
  v.string(),
  v.maxLength(maxLabelLength, (issue) => `${quoted(String(issue.input))} is too long (${String(issue.input).length} characters)`),
  v.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, (issue) => `${quoted(String(issue.input))} is not a network name`),
);
const routeRules = v.pipe(
  v.string(),
  v.maxLength(4096, (issue) => `${quoted(String(issue.input))} is too long (${String(issue.input).length} characters)`),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    try {
      return parseRouteRules(dataset.value);
    } catch (error) {
      addIssue({ message: (error as Error).message });
      return NEVER;
    }
  }),
);

const onDown = v.picklist(gatewayDownActions, (issue) => `${quoted(String(issue.input))} is not one of ${gatewayDownActions.join(", ")}`);
const mtu = v.pipe(
  v.string(),
  v.regex(/^\d{1,5}$/, (issue) => `${quoted(String(issue.input))} is not an MTU (a number)`),
  v.transform(Number),
  v.check((value) => value === 0 || (value >= 576 && value <= 9216), (issue) => `${issue.input} is not an MTU between 576 and 9216 (or 0 for none)`),
);

/** Thrown for a label that cannot be used; the message names the container, label and value. */
export class LabelError extends Error {}

/** The label names under a prefix: `<prefix>.target`, `.network`, `.routes`, `.on_down`, `.mtu`. */
export function labelNames(prefix: string): { target: string; network: string; routes: string; onDown: string; mtu: string } {
  return { target: `${prefix}.target`, network: `${prefix}.network`, routes: `${prefix}.routes`, onDown: `${prefix}.on_down`, mtu: `${prefix}.mtu` };
}

function check<T>(schema: v.GenericSchema<string, T>, container: string, label: string, value: string): T {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  throw new LabelError(`container ${container}: label ${label}: ${result.issues.map((issue) => issue.message).join("; ")}`);
}

/** Validates a target's labels; throws a LabelError naming the first bad one. */
export function parseTargetLabels(container: string, labels: Record<string, string>, prefix: string): TargetLabels {
  const names = labelNames(prefix);
  const target = labels[names.target];
  if (target === undefined) throw new LabelError(`container ${container}: no ${names.target} label`);
  const parsed: TargetLabels = { target: check(containerName, container, names.target, target) };
  const network = labels[names.network];
  if (network !== undefined) parsed.network = check(networkName, container, names.network, network);
  const routes = labels[names.routes];
  if (routes !== undefined) parsed.routes = check(routeRules, container, names.routes, routes);
  const down = labels[names.onDown];
  if (down !== undefined) parsed.onDown = check(onDown, container, names.onDown, down);
  const mtuLabel = labels[names.mtu];
  if (mtuLabel !== undefined) parsed.mtu = check(mtu, container, names.mtu, mtuLabel);
  return parsed;
}

/** The `<prefix>.network` preference a warp container may carry. */
export function parseWarpNetworkLabel(container: string, labels: Record<string, string>, prefix: string): string | undefined {
  const name = labelNames(prefix).network;
  const value = labels[name];
  return value === undefined ? undefined : check(networkName, container, name, value);
}
