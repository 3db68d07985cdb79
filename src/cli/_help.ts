import { renderUsage, type ArgsDef, type CommandDef } from "citty";

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

/**
 * `--help`: citty's usage (one line per subcommand), then the command's details and examples.
 * The root lists `summaries`, so its help loads no command's code.
 */
export async function showHelp(command: CommandDef<ArgsDef>, parent: CommandDef<ArgsDef> | undefined, summaries: readonly CommandSummary[]): Promise<void> {
  const shown =
    parent === undefined
      ? { ...command, subCommands: Object.fromEntries(summaries.map(({ name, summary }) => [name, { meta: { name, description: summary } }])) }
      : command;
  const text = helpTexts.get(command);
  const details = text?.details?.length ? `\n\n${text.details.join("\n")}` : "";
  const examples = text?.examples.length ? `\n\nExamples:\n${text.examples.map((line) => `  ${line}`).join("\n")}` : "";
  process.stdout.write(`${(await renderUsage(shown, parent)).trimEnd()}${details}${examples}\n`);
}
