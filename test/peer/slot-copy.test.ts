// Blocks reach their pool slot through copyIntoSlot (peer/pieces/slot-copy.ts): where machine code can run
// (peer/native/machine-code.ts) a loop of streaming stores, elsewhere Uint8Array.set. Whatever the alignment of either side and
// whatever the length, the target must end up with exactly the source's bytes at the offset, and nothing
// around them touched.
import { describe, expect, test } from "bun:test";
import { machineCodeCanRun } from "../../peer/native/machine-code.ts";
import { copyIntoSlot, streamCopyAvailable } from "../../peer/pieces/slot-copy.ts";

const pattern = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 131 + seed * 7 + (i >> 8)) & 255);

describe("copyIntoSlot", () => {
  test("uses streaming stores wherever machine code can run", () => {
    expect(streamCopyAvailable()).toBe(machineCodeCanRun() && process.env.BTPEER_STREAM_COPY !== "0");
  });

  test("copies exactly the source's bytes at any alignment and length, and nothing around them", () => {
    // A shared pool like the download's, and source views at odd offsets inside larger buffers.
    const slot = new Uint8Array(new SharedArrayBuffer(64 * 1024));
    const backing = pattern(40 * 1024, 3);
    for (const length of [1, 63, 64, 1023, 1024, 1025, 4097, 16 * 1024, 16 * 1024 + 13]) {
      for (const targetOffset of [0, 1, 15, 16, 17, 4096 + 9]) {
        for (const sourceOffset of [0, 3, 16]) {
          slot.fill(0xee);
          const source = backing.subarray(sourceOffset, sourceOffset + length);
          copyIntoSlot(slot, source, targetOffset);
          expect(Buffer.from(slot.subarray(targetOffset, targetOffset + length)).equals(Buffer.from(source))).toBe(true);
          expect(slot.subarray(0, targetOffset).every((b) => b === 0xee)).toBe(true);
          expect(slot.subarray(targetOffset + length).every((b) => b === 0xee)).toBe(true);
        }
      }
    }
  });

  test("copies into a view that starts inside its buffer (a slot of a pool)", () => {
    const pool = new Uint8Array(new SharedArrayBuffer(3 * 16384));
    const slot = pool.subarray(16384, 2 * 16384);
    const block = pattern(16384 - 100, 9);
    copyIntoSlot(slot, block, 100);
    expect(Buffer.from(pool.subarray(16384 + 100, 2 * 16384)).equals(Buffer.from(block))).toBe(true);
    expect(pool.subarray(0, 16384 + 100).every((b) => b === 0)).toBe(true);
    expect(pool.subarray(2 * 16384).every((b) => b === 0)).toBe(true);
  });

  test("refuses a source that would run past the target's end", () => {
    const slot = new Uint8Array(8192);
    expect(() => copyIntoSlot(slot, pattern(4096, 1), 4097)).toThrow(RangeError);
    expect(slot.every((b) => b === 0)).toBe(true);
  });
});
