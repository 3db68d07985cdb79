import { renderUsage, type ArgsDef, type CommandDef } from "citty";
import { wantsColors } from "../core/logger.ts";

/** What a command's own `--help` shows beyond citty's usage. */
export interface HelpText {
  /** Paragraph lines under the usage. */
  details?: readonly string[];
  /** Example command lines, each with a `# comment` where it helps. */
  examples: readonly string[];
}

const helpTexts = new WeakMap<object, HelpText>();

/**
 * Attaches details and examples to a command, shown under its own `--help`. Its
 * `meta.description` stays one line: lists of commands print it as is. Returns the command.
 */
export function withHelp<T extends ArgsDef>(command: CommandDef<T>, text: HelpText): CommandDef<T> {
  helpTexts.set(command, text);
  return command;
}

/** One line per command for the root `--help`, without loading any command's code. */
export interface CommandSummary {
  name: string;
  summary: string;
}

/** One command on the way from the root to the one asked for: `dockernet`, `flow`, `call`. */
export interface PathStep {
  name: string;
  command: CommandDef<ArgsDef>;
}

async function resolved<T>(value: T | (() => T | Promise<T>) | Promise<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

/** The index of the first word of `rawArgs` that is not a flag nor a string flag's value, or -1. */
function firstWord(rawArgs: readonly string[], args: ArgsDef): number {
  for (let index = 0; index < rawArgs.length; index++) {
    const arg = rawArgs[index] as string;
    if (arg === "--") return -1;
    if (!arg.startsWith("-")) return index;
    const flag = args[arg.replace(/^-{1,2}/, "")];
    if (!arg.includes("=") && flag !== undefined && flag.type !== "boolean") index++;
  }
  return -1;
}

/**
 * The commands the words of `rawArgs` lead to from `root` (as citty finds them), root first: what
 * a `--help` shows and what an error's hint points to (`see dockernet flow --help`).
 */
export async function commandPath(root: CommandDef<ArgsDef>, rawArgs: readonly string[]): Promise<PathStep[]> {
  const path: PathStep[] = [{ name: (await resolved(root.meta))?.name ?? "dockernet", command: root }];
  let rest = rawArgs;
  for (;;) {
    const current = (path.at(-1) as PathStep).command;
    const subCommands = current.subCommands === undefined ? undefined : await resolved(current.subCommands);
    const index = firstWord(rest, (await resolved(current.args)) ?? {});
    const word = index < 0 ? undefined : (rest[index] as string);
    if (subCommands === undefined || word === undefined || !Object.hasOwn(subCommands, word)) return path;
    path.push({ name: word, command: (await resolved(subCommands[word])) as CommandDef<ArgsDef> });
    rest = rest.slice(index + 1);
  }
}

/**
 * One rule for the case of descriptions: a command's own title line and its flags are sentences
 * (capitalised); the one-line summaries in a list of commands are not, as the root's list always
 * was. A word in capitals (`HTTP`, `JSON`) is left as it is.
 */
function capitalised(text: string | undefined): string | undefined {
  return text === undefined || text === "" ? text : `${text[0]?.toUpperCase()}${text.slice(1)}`;
}

function listed(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? `${text[0]?.toLowerCase()}${text.slice(1)}` : text;
}

/** What citty renders for `command`: its subcommands listed by name and summary only, in the case help uses. */
async function shownCommand(command: CommandDef<ArgsDef>, summaries: readonly CommandSummary[] | undefined): Promise<CommandDef<ArgsDef>> {
  const meta = (await resolved(command.meta)) ?? {};
  const summariesOf = summaries ?? (await Promise.all(Object.entries((await resolved(command.subCommands)) ?? {}).map(async ([name, sub]) => ({
    name,
    summary: (await resolved((await resolved(sub))?.meta))?.description ?? "",
  }))));
  return {
    ...command,
    meta: { ...meta, description: capitalised(meta.description) },
    ...(summariesOf.length > 0 ? { subCommands: Object.fromEntries(summariesOf.map(({ name, summary }) => [name, { meta: { name, description: listed(summary) } }])) } : {}),
  };
}

/** `text` without terminal colours (citty colours its usage and errors whatever the output is). */
export function withoutColors(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/**
 * `--help`: citty's usage (one line per subcommand), then the command's details and examples.
 * The usage line names the whole command (`dockernet flow call`), not only its parent. The root
 * lists `summaries`, so its help loads no command's code.
 */
export async function showHelp(path: readonly PathStep[], summaries: readonly CommandSummary[]): Promise<void> {
  const { command } = path.at(-1) as PathStep;
  const shown = await shownCommand(command, path.length === 1 ? summaries : undefined);
  const parent = path.length > 1 ? { meta: { name: path.slice(0, -1).map((step) => step.name).join(" ") } } : undefined;
  const text = helpTexts.get(command);
  const details = text?.details?.length ? `\n\n${text.details.join("\n")}` : "";
  const examples = text?.examples.length ? `\n\nExamples:\n${text.examples.map((line) => `  ${line}`).join("\n")}` : "";
  const usage = (await renderUsage(shown, parent)).trimEnd();
  // Colours for a terminal only: `--help | less`, `> help.txt` and grep get plain text.
  process.stdout.write(`${wantsColors(process.stdout) ? usage : withoutColors(usage)}${details}${examples}\n`);
}
