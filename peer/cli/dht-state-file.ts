// --dht-state FILE: the routing table kept between runs (table-file.ts's bytes), so the next run asks the
// nodes saved there first and needs no bootstrap router when they answer.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

export function readDhtState(path: string | undefined): Uint8Array | undefined {
  return path && existsSync(path) ? new Uint8Array(readFileSync(path)) : undefined;
}

/** Written whole, then renamed over the old one: a crash never leaves half a table behind. */
export function writeDhtState(path: string, table: Uint8Array): void {
  writeFileSync(`${path}.tmp`, table);
  renameSync(`${path}.tmp`, path);
}
