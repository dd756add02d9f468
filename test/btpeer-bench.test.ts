// The compiled binary on its own (copied away from the checkout, no node_modules beside it) runs its
// benchmarks, including parallel verification on Bun workers bundled into the binary.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const repo = path.resolve(import.meta.dir, "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "btpeer-bin-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("btpeer bench from the compiled binary", () => {
  test("a binary built by `npm run build` verifies data on its worker threads with nothing beside it", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8")) as { scripts: Record<string, string> };
    const binary = path.join(tmp, "btpeer");
    // The project's own build line, writing into the temp folder instead of dist/.
    const build = pkg.scripts.build!.replace("dist/btpeer", binary);
    expect(build).toContain("peer/verify/worker.ts");
    const built = Bun.spawnSync(["sh", "-c", build], {
      cwd: repo,
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, PATH: `${repo}/node_modules/.bin:${process.env.PATH}` },
    });
    expect(built.stderr.toString()).not.toContain("error");
    expect(built.exitCode).toBe(0);

    const alone = path.join(tmp, "alone");
    fs.mkdirSync(alone);
    fs.copyFileSync(binary, path.join(alone, "btpeer"));
    fs.chmodSync(path.join(alone, "btpeer"), 0o755);
    const r = Bun.spawnSync([path.join(alone, "btpeer"), "bench", "--quick", "--json", "--verify", "0.05"], {
      cwd: alone,
      stdout: "pipe",
      stderr: "pipe",
      timeout: 120_000,
    });
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    const rows = r.stdout
      .toString()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { figure: string; value: number; unit: string });
    const workers = os.availableParallelism();
    const parallel = rows.find((row) => row.figure.startsWith("verify") && row.figure.endsWith(`${workers} workers`));
    const single = rows.find((row) => row.figure.startsWith("verify") && row.figure.endsWith("1 worker"));
    // verifyExisting throws (and the command fails) unless every piece hashed correctly.
    expect(parallel?.value).toBeGreaterThan(0);
    expect(single?.value).toBeGreaterThan(0);
    expect(rows.some((row) => row.figure.startsWith("SHA-1 Bun.CryptoHasher") && row.unit === "MB/s" && row.value > 0)).toBe(true);
    expect(rows.some((row) => row.figure.startsWith("codec: decode") && row.value > 0)).toBe(true);
    expect(fs.readdirSync(alone)).toEqual(["btpeer"]);
  }, 150_000);
});
