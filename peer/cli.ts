#!/usr/bin/env bun
// btpeer: one binary, one subcommand per file in cli/. Each command module exports `run(argv)`
// returning an exit code; errors that reach here become one clear line and a non-zero exit.

import { execWithoutFtl } from "./cli/jit-tiers.ts";

interface Command {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
  /** Runs until stopped: started without the FTL JIT tier (cli/jit-tiers.ts says why). */
  longRunning?: true;
}

const COMMANDS: Record<string, Command> = {
  create: { summary: "make a .torrent from a file or folder", load: () => import("./cli/create.ts") },
  info: { summary: "show what a .torrent or magnet link describes", load: () => import("./cli/info.ts") },
  download: { summary: "download a torrent, then seed it", load: () => import("./cli/download.ts"), longRunning: true },
  seed: { summary: "verify data on disk and seed it", load: () => import("./cli/seed.ts"), longRunning: true },
  daemon: { summary: "run many torrents on one port, resumed across restarts", load: () => import("./cli/daemon.ts"), longRunning: true },
  remote: { summary: "drive a running daemon: add, list, pause, remove, stats, ...", load: () => import("./cli/remote.ts") },
  "dht-lookup": { summary: "find a torrent's peers on the DHT (BEP 5)", load: () => import("./cli/dht-lookup.ts") },
  bench: { summary: "measure SHA-1 and wire codec speed on this machine", load: () => import("./cli/bench.ts") },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: btpeer <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nRun \`btpeer <command> --help\` for a command's options.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  if (name === "--version") {
    console.log("btpeer 0.1.0");
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`btpeer: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (command.longRunning) execWithoutFtl();
  const module = await command.load();
  return module.run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`btpeer: ${message}`);
  process.exitCode = 1;
}
