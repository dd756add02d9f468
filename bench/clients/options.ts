// bench:clients' command line (see the header of bench/clients.ts).
import path from "node:path";
import { BTPEER } from "../../test/support/btpeer.ts";
import { parseSize } from "../swarm/data.ts";
import type { Cell } from "./report.ts";

/** The three groups of a round, in the order they run (see the header of bench/clients.ts). */
export const GROUPS: readonly Cell["group"][] = ["from-btpeer", "from-libtorrent", "btpeer-from"];

export interface Options {
  clients: string[];
  /** The groups each round runs (default all): `--groups from-libtorrent` repeats just those cells. */
  groups: Cell["group"][];
  size: number;
  rounds: number;
  pieceLength: number;
  btpeerCmd: string[];
  json: string | null;
  svg: string;
  maxMinutes: number;
  help: boolean;
}

/** A command-line mistake: printed with the usage, without a stack. */
export class OptionError extends Error {}

export const USAGE = `usage: bun bench/clients.ts [--clients btpeer,libtorrent,qbittorrent,transmission,rtorrent,deluge,aria2]
                          [--groups from-btpeer,from-libtorrent,btpeer-from]
                          [--size 1G] [--rounds 3] [--piece 1M] [--btpeer dist/btpeer]
                          [--json FILE] [--svg FILE] [--max-minutes 20]
(what each cell measures: the header of bench/clients.ts)`;

export function parseOptions(argv: string[]): Options {
  const o: Options = {
    clients: [],
    groups: [...GROUPS],
    size: parseSize("1G"),
    rounds: 3,
    pieceLength: parseSize("1M"),
    btpeerCmd: BTPEER,
    json: null,
    svg: path.resolve(import.meta.dir, "..", "results", "clients.svg"),
    maxMinutes: 20,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new OptionError(`${a} needs a value`);
      return v;
    };
    if (a === "--clients") o.clients = next().split(",");
    else if (a === "--groups") o.groups = parseGroups(next());
    else if (a === "--size") o.size = parseSize(next());
    else if (a === "--rounds") o.rounds = Math.max(1, Number(next()));
    else if (a === "--piece") o.pieceLength = parseSize(next());
    else if (a === "--btpeer") o.btpeerCmd = [path.resolve(next())];
    else if (a === "--json") o.json = path.resolve(next());
    else if (a === "--svg") o.svg = path.resolve(next());
    else if (a === "--max-minutes") o.maxMinutes = Number(next());
    else if (a === "--help" || a === "-h") o.help = true;
    else throw new OptionError(`unknown option ${a}`);
  }
  return o;
}

function parseGroups(text: string): Cell["group"][] {
  const groups = text.split(",");
  for (const g of groups) {
    if (!(GROUPS as readonly string[]).includes(g)) throw new OptionError(`unknown group ${g}; pick from ${GROUPS.join(", ")}`);
  }
  return GROUPS.filter((g) => groups.includes(g));
}
