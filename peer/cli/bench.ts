// `btpeer bench`: SHA-1 and wire codec speed on this machine, from the binary alone (no checkout), to
// size a server; `--verify` also times parallel verification of a temporary file in the page cache.
import { benchCodec } from "../bench/codec.ts";
import { benchSha1 } from "../bench/sha1.ts";
import { formatTable, rowsAsJson, type Row } from "../bench/table.ts";
import { benchVerify } from "../bench/verify.ts";

const HELP = `usage: btpeer bench [--quick] [--json] [--verify [GiB]]

Measures SHA-1 (Bun, node:crypto, WebCrypto vs openssl speed) and the peer wire codec on this machine,
medians over several rounds. --verify also times parallel verification of a temporary file (default
1 GiB) on all cores against one worker. --quick: one short round each. --json: one JSON row per line.`;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  const known = new Set(["--quick", "--json", "--verify"]);
  const unknown = argv.find((a, i) => !known.has(a) && !(argv[i - 1] === "--verify" && /^[\d.]+$/.test(a)));
  if (unknown) {
    console.error(`btpeer bench: unknown option "${unknown}"\n\n${HELP}`);
    return 2;
  }
  const quick = argv.includes("--quick");
  const json = argv.includes("--json");
  const rounds = quick ? 1 : 3;
  const time = quick ? 100 : 300;
  const rows: Row[] = [];
  const step = async (name: string, fn: () => Promise<Row[]>) => {
    if (!json) process.stderr.write(`measuring ${name}...\n`);
    rows.push(...(await fn()));
  };
  await step("SHA-1", () => benchSha1({ rounds, time }));
  await step("wire codec", () => benchCodec({ rounds, time }));
  const at = argv.indexOf("--verify");
  if (at >= 0) {
    const next = argv[at + 1];
    const gib = next && /^[\d.]+$/.test(next) ? Number(next) : 1;
    await step(`parallel verification of ${gib} GiB`, () => benchVerify({ gib, rounds: quick ? 1 : 3 }));
  }
  console.log(json ? rowsAsJson(rows) : formatTable(rows));
  return 0;
}
