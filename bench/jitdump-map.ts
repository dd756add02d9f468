// JSC's jitdump files (BUN_JSC_useJITDump=1, BUN_JSC_jitDumpDirectory=DIR) as perf map files: perf then
// names JIT-compiled JavaScript ("JSC-DFG: blockReceived#DE1J5D") instead of leaving bare addresses.
// `perf inject --jit` cannot read them (it wants jit-<pid>.dump; JSC writes jit-<tid>-<pid>.dump), so each
// code-load record becomes a line of /tmp/perf-<pid>.map, newest first (perf takes the first entry that
// covers an address, and JSC reuses freed code memory). Names are the source's: build the binary with
// `--minify-syntax --minify-whitespace` (no --minify) to keep function names other than methods'.
//
//   bun bench/jitdump-map.ts DIR      (after the processes have exited)
import fs from "node:fs";
import path from "node:path";

const JIT_CODE_LOAD = 0;

/** Writes the code loads of every jit-*.dump in `dir` to /tmp/perf-<pid>.map (a process's several dumps to one); returns the maps. */
export function jitdumpsToPerfMaps(dir: string): string[] {
  const written = new Set<string>();
  for (const name of fs.readdirSync(dir).filter((n) => /^jit-.*\.dump$/.test(n))) {
    const data = fs.readFileSync(path.join(dir, name));
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const pid = view.getUint32(20, true);
    const lines: string[] = [];
    for (let at = view.getUint32(8, true); at + 16 <= data.length; ) {
      const id = view.getUint32(at, true);
      const size = view.getUint32(at + 4, true);
      if (size === 0 || at + size > data.length) break; // the last record of a killed process may be cut short
      if (id === JIT_CODE_LOAD) {
        const address = view.getBigUint64(at + 24, true);
        const codeSize = view.getBigUint64(at + 40, true);
        const end = data.indexOf(0, at + 56);
        lines.push(`${address.toString(16)} ${codeSize.toString(16)} ${data.toString("utf8", at + 56, end)}`);
      }
      at += size;
    }
    const map = `/tmp/perf-${pid}.map`;
    // A map left by an earlier process of the same pid is replaced, not added to.
    (written.has(map) ? fs.appendFileSync : fs.writeFileSync)(map, `${lines.reverse().join("\n")}\n`);
    written.add(map);
  }
  return [...written];
}

if (import.meta.main) {
  const dir = process.argv[2];
  if (!dir) throw new Error("usage: jitdump-map.ts DIR (holding jit-*.dump files)");
  for (const map of jitdumpsToPerfMaps(dir)) console.log(map);
}
