// `bun bench/verify.ts [--gib N]`: parallel verification alone, 4 GiB by default (the measurement
// itself is in peer/bench/verify.ts, which `btpeer bench --verify` ships).
import { formatTable } from "../peer/bench/table.ts";
import { benchVerify } from "../peer/bench/verify.ts";

const at = process.argv.indexOf("--gib");
const gib = at > 0 ? Number(process.argv[at + 1]) : 4;
console.log(formatTable(await benchVerify({ gib })));
