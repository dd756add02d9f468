// What `download` and `seed` share around their own options: parsing argv, --help, and turning a usage
// mistake into "btpeer <command>: <what is wrong>", the command's usage text and exit code 2.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { CliError } from "./session-runner.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: O }>>;

/**
 * Parses `argv` against `options` (plus -h/--help) and runs `body`; a parse error or a CliError("usage")
 * thrown by `body` prints the message with `help` and returns 2.
 */
export async function runCommand<O extends Options>(
  command: string,
  help: string,
  argv: string[],
  options: O,
  body: (values: Parsed<O>["values"], positionals: string[]) => Promise<number>,
): Promise<number> {
  const usageError = (message: string) => {
    console.error(`btpeer ${command}: ${message}\n\n${help}`);
    return 2;
  };
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { ...options, help: { type: "boolean", short: "h" } } }) as Parsed<O>;
  } catch (error) {
    return usageError((error as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(help);
    return 0;
  }
  try {
    return await body(parsed.values, parsed.positionals);
  } catch (error) {
    if (error instanceof CliError && error.code === "usage") return usageError(error.message);
    throw error;
  }
}

/** A whole number option within [min, max], or a usage error naming the option. */
export function intOption(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new CliError("usage", `${name} wants a whole number from ${min} to ${max}, got "${text}"`);
  return n;
}
