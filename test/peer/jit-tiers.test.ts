// The long-running commands replace themselves, at start, with the same process run with JavaScriptCore's
// FTL tier off (peer/cli/jit-tiers.ts says why): same pid, same arguments, the environment plus the one
// option; an operator's own setting of that option is kept. Checked from /proc on real btpeer processes,
// from source and as the compiled binary, which then go on to serve as usual.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { FTL_OPTION } from "../../peer/cli/jit-tiers.ts";
import { makeRandomFile, removeDir } from "../support/files.ts";
import { seedFixture, type SeedFixture } from "../support/seed-fixture.ts";
import { CLI, startBtpeer } from "./btpeer-harness.ts";
import { DIST } from "./daemon-harness.ts";

const nulSeparated = (file: string) =>
  fs
    .readFileSync(file, "utf8")
    .split("\0")
    .filter((s) => s.length > 0);

let fixture: SeedFixture;

beforeAll(async () => {
  fixture = await seedFixture("btpeer-jit-tiers-", "data.bin", 32 * 1024, (file) => makeRandomFile(file, 100_000, 5));
});

afterAll(() => {
  removeDir(fixture.dir);
});

describe.skipIf(process.platform !== "linux")("a long-running btpeer and the FTL tier", () => {
  const seedArgs = () => ["seed", fixture.torrent, "--dir", path.dirname(fixture.source), "--no-dht", "--bind", "127.0.0.1"];

  for (const [how, binary] of [
    ["from source", undefined],
    ["as the compiled binary", DIST],
  ] as const) {
    test(`${how}, it runs on in the same process with FTL off and its arguments intact`, async () => {
      const seeder = await startBtpeer(seedArgs(), { ...(binary ? { binary } : {}) });
      try {
        const pid = seeder.service.pid;
        expect(nulSeparated(`/proc/${pid}/environ`)).toContain(`${FTL_OPTION}=0`);
        const args = nulSeparated(`/proc/${pid}/cmdline`);
        expect(args.slice(binary ? 1 : 2)).toEqual([...seedArgs(), "--json", "--port", String(seeder.port)]);
        expect(args[binary ? 0 : 1]).toBe(binary ?? CLI);
        // It serves: the torrent checked and seeding, from that same pid.
        expect(seeder.last("started")).toBeDefined();
        expect(seeder.service.hasExited).toBe(false);
      } finally {
        await seeder.stop();
      }
    }, 60_000); // safety bound only
  }

  test("an operator's own setting of the option is kept", async () => {
    const seeder = await startBtpeer(seedArgs(), { env: { [FTL_OPTION]: "1" } });
    try {
      const environ = nulSeparated(`/proc/${seeder.service.pid}/environ`);
      expect(environ).toContain(`${FTL_OPTION}=1`);
      expect(environ).not.toContain(`${FTL_OPTION}=0`);
    } finally {
      await seeder.stop();
    }
  }, 60_000); // safety bound only
});
