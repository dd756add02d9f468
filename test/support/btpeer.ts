// How tests run the btpeer CLI: from source with the Bun running the tests, so no build is needed.
import { resolve } from "node:path";

export const BTPEER_CLI = resolve(import.meta.dir, "../../peer/cli.ts");
export const BTPEER = [process.execPath, BTPEER_CLI];

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `btpeer <args>` to completion (for commands that end by themselves, such as create and info). */
export async function runBtpeer(args: string[], options: { cwd?: string } = {}): Promise<CliResult> {
  const proc = Bun.spawn([...BTPEER, ...args], { cwd: options.cwd, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}
