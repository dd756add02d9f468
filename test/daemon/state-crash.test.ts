// SIGKILL at random points: a real child process resumes a torrent from the state store, writes and
// marks pieces, and prints each commit; it is killed mid-run several times. Every reopen must succeed
// with the torrent list intact, every piece the child saw committed must be in the bitfield, and no
// piece the store trusts may be wrong on disk. A last run to completion then resumes with nothing to check.
import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { planResume, stampFile } from "../../peer/daemon/resume-plan.ts";
import { StateStore } from "../../peer/daemon/state-store.ts";
import { spawnService } from "../support/processes.ts";
import { CRASH_TORRENT, crashLayout, pieceOnDiskIsRight } from "./state-fixture.ts";

const ROUNDS = 8;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "btswarm-crash-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const child = () => spawnService({ name: "state child", cmd: [process.execPath, path.join(import.meta.dir, "state-child.ts"), "download", dir] });

test(`${ROUNDS} SIGKILLs at random points lose no committed piece and never the torrent list`, async () => {
  const committed = new Set<number>();
  let added = false;
  const layout = crashLayout(dir);
  for (let round = 0; round < ROUNDS; round++) {
    // Half the rounds die early (during start, open or the first commits), half after a few commits.
    const early = round % 2 === 0;
    const delayMs = Math.floor(Math.random() * 250);
    const flushes = 1 + Math.floor(Math.random() * 6);
    const where = early ? `${delayMs} ms after spawn` : `${flushes} commits in`;
    const proc = await child();
    if (early) await Bun.sleep(delayMs);
    else {
      let seen = 0;
      await proc.waitForLine((line) => line.startsWith("flushed ") && ++seen >= flushes, 30_000).catch(() => {});
      await Bun.sleep(Math.random() * 3);
    }
    proc.proc.kill("SIGKILL");
    await proc.exited;
    for (const line of proc.lines) {
      if (line === "added") added = true;
      if (line.startsWith("flushed ")) for (const p of JSON.parse(line.slice(8)) as number[]) committed.add(p);
    }

    const context = `round ${round}, killed ${where}; output:\n${proc.output()}`;
    const store = StateStore.open(dir);
    try {
      const { hex: _, ...torrent } = CRASH_TORRENT;
      // Once the child said it added the torrent, the list holds it; before, it may or may not.
      const list = store.listTorrents();
      expect(list, context).toEqual(added || list.length > 0 ? [torrent] : []);
      const resume = store.getResume(CRASH_TORRENT.infoHash);
      const lost = [...committed].filter((p) => !resume?.bitfield.has(p));
      expect(lost, context).toEqual([]);
      const plan = planResume(
        layout,
        resume,
        layout.files.map((f) => stampFile(f.path)),
      );
      const wrong = [...Array(layout.pieceCount).keys()].filter((p) => plan.verified.has(p) && !pieceOnDiskIsRight(layout, p));
      expect(wrong, context).toEqual([]);
    } finally {
      store.close();
    }
  }

  const last = await child();
  await last.waitForLine(/^complete$/, 60_000);
  expect(await last.exited).toBe(0);
  const store = StateStore.open(dir);
  try {
    const plan = planResume(
      layout,
      store.getResume(CRASH_TORRENT.infoHash),
      layout.files.map((f) => stampFile(f.path)),
    );
    expect(plan.files).toEqual(["unchanged", "unchanged", "unchanged"]);
    expect(plan.recheck).toEqual([]);
    expect(plan.verified.isComplete()).toBe(true);
  } finally {
    store.close();
  }
}, 180_000);
