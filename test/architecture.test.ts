// The dependency directions of DESIGN.md, checked on the source: a wrong import fails here (and the
// per-folder type checks fail on runtime globals such as Bun or Deno used where they do not belong).
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");

/** The .ts files under `dir`; tests beside code are left out unless `withTests`. */
function sourceFiles(dir: string, withTests = false): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path, withTests));
    else if (name.endsWith(".ts") && (withTests || !name.endsWith(".test.ts")) && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers: string[] = [];
  const pattern = /(?:^|[^\w.])(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^import\s*["']([^"']+)["']/gm;
  for (const match of text.matchAll(pattern)) specifiers.push((match[1] ?? match[2] ?? match[3])!);
  return specifiers;
}

/** Where an import lands: a top-level project folder for relative imports, else the package name. */
function target(file: string, specifier: string): string {
  return specifier.startsWith(".") ? landing(file, specifier).split("/")[0]! : specifier;
}

/** The imported file's path from the project root for relative imports, else the package name. */
function landing(file: string, specifier: string): string {
  if (!specifier.startsWith(".")) return specifier;
  return relative(ROOT, resolve(file, "..", specifier));
}

function violations(folder: string, allowed: (target: string, file: string, landing: string) => boolean, withTests = false): string[] {
  return sourceFiles(join(ROOT, folder), withTests).flatMap((file) =>
    importsOf(file)
      .filter((spec) => !allowed(target(file, spec), file, landing(file, spec)))
      .map((spec) => `${relative(ROOT, file)} imports "${spec}"`),
  );
}

/** test/support/ is the one place bench/ and test/ share helpers (process control, files, ports, real clients). */
const NEUTRAL = "test/support/";

describe("dependency directions", () => {
  test("shared/ imports only itself and the bencode package", () => {
    expect(violations("shared", (t) => t === "shared" || t === "bencode")).toEqual([]);
  });

  test("edge/ app code imports only shared/, hono and @upstash/redis", () => {
    const runtimeSpecific = (file: string) => /\/edge\/(adapter|local)\//.test(file);
    const ok = (t: string, file: string) =>
      runtimeSpecific(file)
        ? t !== "peer" && t !== "bench" && t !== "test"
        : t === "edge" || t === "shared" || t === "hono" || t.startsWith("hono/") || t.startsWith("@upstash/redis");
    expect(violations("edge", ok)).toEqual([]);
  });

  test("peer/ never imports edge/, bench/ or test/ (what `btpeer bench` ships lives in peer/bench/)", () => {
    expect(violations("peer", (t) => t !== "edge" && t !== "bench" && t !== "test")).toEqual([]);
  });

  test("bench/ takes from test/ only the shared helpers in test/support/", () => {
    expect(violations("bench", (t, _file, to) => t !== "test" || to.startsWith(NEUTRAL))).toEqual([]);
  });

  test("test/ never imports bench/", () => {
    expect(violations("test", (t) => t !== "bench", true)).toEqual([]);
  });

  test("test/support/ stands alone: nothing from the rest of test/, so bench/ gets no test's private code", () => {
    expect(violations(NEUTRAL, (t, _file, to) => t !== "test" || to.startsWith(NEUTRAL))).toEqual([]);
  });
});
