// The dependency directions of DESIGN.md, checked on the source: a wrong import fails here (and the
// per-folder type checks fail on runtime globals such as Bun or Deno used where they do not belong).
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith(".ts") && !name.endsWith(".test.ts") && !name.endsWith(".d.ts")) out.push(path);
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
  if (!specifier.startsWith(".")) return specifier;
  return relative(ROOT, resolve(file, "..", specifier)).split("/")[0]!;
}

function violations(folder: string, allowed: (target: string, file: string) => boolean): string[] {
  return sourceFiles(join(ROOT, folder)).flatMap((file) =>
    importsOf(file)
      .filter((spec) => !allowed(target(file, spec), file))
      .map((spec) => `${relative(ROOT, file)} imports "${spec}"`),
  );
}

describe("dependency directions", () => {
  test("shared/ imports only itself and the bencode package", () => {
    expect(violations("shared", (t) => t === "shared" || t === "bencode")).toEqual([]);
  });

  test("edge/ app code imports only shared/, hono and @upstash/redis", () => {
    const runtimeSpecific = (file: string) => /\/edge\/(adapter|local)\//.test(file);
    const ok = (t: string, file: string) =>
      runtimeSpecific(file)
        ? t !== "peer"
        : t === "edge" || t === "shared" || t === "hono" || t.startsWith("hono/") || t.startsWith("@upstash/redis");
    expect(violations("edge", ok)).toEqual([]);
  });

  test("peer/ never imports edge/", () => {
    expect(violations("peer", (t) => t !== "edge")).toEqual([]);
  });
});
