// What `download` and `seed` share around their own options: parsing argv, --help, and turning a usage
// mistake into "btpeer <command>: <what is wrong>", the command's usage text and exit code 2.
import { isIP } from "node:net";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { parseEncryptionPolicy, type EncryptionPolicy } from "../../shared/mse/policy.ts";
import { CliError } from "./torrent-runner.ts";
import type { SeedingGoals } from "../torrent/seeding-goals.ts";

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

/** `--no-direct-io`, as download and daemon take it (peer/storage/direct-writes.ts). */
export const DIRECT_IO_HELP = `  --no-direct-io       write verified pieces through the page cache; by default (Linux) their
                       page-aligned bytes go to disk with O_DIRECT, skipping the kernel's copy`;

/** A whole number option within [min, max], or a usage error naming the option. */
export function intOption(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new CliError("usage", `${name} wants a whole number from ${min} to ${max}, got "${text}"`);
  return n;
}

/** "262144", "256K", "256KiB", "4M", "4MB", "1.5G": binary multiples, rounded to whole bytes. */
export function parseSize(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)(i?b)?$/i.exec(text.trim());
  if (!match) return null;
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase() as "" | "k" | "m" | "g"];
  return Math.round(Number(match[1]) * unit);
}

/** `--upload-limit`: bytes per second with an optional K/M/G (binary) suffix, e.g. "500K", "50M"; "0" means none. */
export function rateOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const bytes = parseSize(text.replace(/\/s$/i, ""));
  if (bytes === null) throw new CliError("usage", `${name} wants bytes per second such as 500K, 50M or 1G (binary units), got "${text}"`);
  if (bytes > 0 && bytes < 16 * 1024) throw new CliError("usage", `${name} must be at least 16K (one block per second), got "${text}"`);
  return bytes === 0 ? undefined : bytes;
}

/** `--ratio-limit R`, `--seed-time-limit SECONDS`: when seeding stops (none given: never). */
export function goalOptions(ratio: string | undefined, seconds: string | undefined): SeedingGoals | undefined {
  if (ratio === undefined && seconds === undefined) return undefined;
  let ratioLimit: number | null = null;
  if (ratio !== undefined) {
    ratioLimit = Number(ratio);
    if (!/^\d+(\.\d+)?$/.test(ratio)) throw new CliError("usage", `--ratio-limit wants a share ratio such as 1 or 2.5, got "${ratio}"`);
  }
  const seedTimeLimit = seconds === undefined ? null : intOption("--seed-time-limit", seconds, 0, 10 * 365 * 86_400);
  return { ratioLimit, seedTimeLimit };
}

/** `--bind`: one IPv4 or IPv6 address ("[::1]" also taken), not a host name: it must name one interface. */
export function bindOption(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const address = /^\[(.*)\]$/.exec(text)?.[1] ?? text;
  if (isIP(address) === 0) throw new CliError("usage", `--bind wants an IP address of this machine such as 192.0.2.10 or 2001:db8::1, got "${text}"`);
  return address;
}

/** `--encryption`: prefer, require or disable (MSE/PE). */
export function encryptionOption(text: string): EncryptionPolicy {
  const policy = parseEncryptionPolicy(text);
  if (policy === null) throw new CliError("usage", `--encryption wants prefer, require or disable, got "${text}"`);
  return policy;
}
