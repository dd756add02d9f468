import { describe, expect, test } from "bun:test";
import { Bitfield } from "../../shared/bitfield.ts";
import { filesOfPiece, planResume, type FileStamp, type ResumeData, type ResumeLayout } from "../../peer/daemon/resume-plan.ts";

// Pieces of 100 bytes; files: a [0, 250) -> pieces 0-2, empty at 250, b [250, 600) -> pieces 2-5, c [600, 650) -> piece 6.
const LAYOUT: ResumeLayout = {
  pieceCount: 7,
  pieceLength: 100,
  files: [
    { offset: 0, length: 250 },
    { offset: 250, length: 0 },
    { offset: 250, length: 350 },
    { offset: 600, length: 50 },
  ],
};
const STAMPS: FileStamp[] = [
  { size: 250, mtimeMs: 1000.5 },
  { size: 0, mtimeMs: 1000 },
  { size: 350, mtimeMs: 2000.25 },
  { size: 50, mtimeMs: 3000 },
];

function resume(pieces: number[], files: (FileStamp | null)[] = STAMPS, pieceCount = 7): ResumeData {
  const bitfield = new Bitfield(pieceCount);
  for (const p of pieces) bitfield.set(p);
  return { pieceCount, bitfield, files, uploaded: 0, downloaded: 0, updatedAt: 0 };
}
const verifiedOf = (b: Bitfield) => [...Array(b.pieceCount).keys()].filter((p) => b.has(p));
const ALL = [0, 1, 2, 3, 4, 5, 6];

describe("planResume", () => {
  test("unchanged files: the bitfield is trusted as it is, nothing re-checked", () => {
    const plan = planResume(LAYOUT, resume([0, 2, 3, 6]), STAMPS);
    expect(plan.files).toEqual(["unchanged", "unchanged", "unchanged", "unchanged"]);
    expect(verifiedOf(plan.verified)).toEqual([0, 2, 3, 6]);
    expect(plan.recheck).toEqual([]);
  });

  test("a changed mtime re-checks every piece of that file, in the bitfield or not", () => {
    const now = STAMPS.map((s, i) => (i === 2 ? { ...s, mtimeMs: s.mtimeMs + 0.001 } : s));
    const plan = planResume(LAYOUT, resume(ALL), now);
    expect(plan.files).toEqual(["unchanged", "unchanged", "changed", "unchanged"]);
    expect(plan.recheck).toEqual([2, 3, 4, 5]); // piece 2 straddles a and b: b's change taints it
    expect(verifiedOf(plan.verified)).toEqual([0, 1, 6]);
  });

  test("a changed size with the same mtime is a change too", () => {
    const now = STAMPS.map((s, i) => (i === 0 ? { ...s, size: 249 } : s));
    const plan = planResume(LAYOUT, resume([0, 1, 2, 5]), now);
    expect(plan.files[0]).toBe("changed");
    expect(plan.recheck).toEqual([0, 1, 2]);
    expect(verifiedOf(plan.verified)).toEqual([5]);
  });

  test("a missing file's pieces are missing: neither trusted nor re-checked", () => {
    const now = [STAMPS[0]!, STAMPS[1]!, null, STAMPS[3]!];
    const plan = planResume(LAYOUT, resume(ALL), now);
    expect(plan.files[2]).toBe("missing");
    expect(plan.recheck).toEqual([]);
    expect(verifiedOf(plan.verified)).toEqual([0, 1, 6]);
  });

  test("a file never stamped (crash before its first flush) is re-checked; an empty file never matters", () => {
    const plan = planResume(LAYOUT, resume([0, 6], [STAMPS[0]!, null, STAMPS[2]!]), STAMPS);
    expect(plan.files).toEqual(["unchanged", "unstamped", "unchanged", "unstamped"]);
    expect(plan.recheck).toEqual([6]);
    expect(verifiedOf(plan.verified)).toEqual([0]);
  });

  test("no resume data, or data for another shape: every piece of the files there is checked", () => {
    for (const data of [null, resume(ALL, STAMPS, 8)]) {
      const plan = planResume(LAYOUT, data, [STAMPS[0]!, STAMPS[1]!, STAMPS[2]!, null]);
      expect(plan.verified.count()).toBe(0);
      expect(plan.recheck).toEqual([0, 1, 2, 3, 4, 5]);
    }
  });
});

describe("filesOfPiece", () => {
  test("finds every non-empty file a piece touches", () => {
    expect([0, 1, 2, 3, 5, 6].map((p) => filesOfPiece(LAYOUT, p))).toEqual([[0], [0], [0, 2], [2], [2], [3]]);
  });
});
