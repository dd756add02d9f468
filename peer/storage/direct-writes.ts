// Verified pieces written with O_DIRECT on Linux: from the pool slot straight to the disk, without the
// kernel's copy into page-cache pages. On this VM (which hands freed memory back to its host) a buffered
// 1 GiB write cost the write threads 0.14–1.40 s of system time, nearly all of it that copy into fresh
// pages; O_DIRECT about 0.07 s.
//
// O_DIRECT wants the file position, the memory address and the length to be multiples of the device's
// logical block size. 4096 covers every common one (512 and 4096) and is the page size, so it is used
// rather than asking each file system. A write is cut into an unaligned head and tail, which go through the
// page cache as before, and the aligned middle, which goes direct: for a single-file torrent with
// power-of-two pieces that is every byte but the last piece's tail; a file of a multi-file torrent that
// starts at an unaligned offset has no aligned middle at all (its position and the slot's address differ
// by a non-multiple of 4096) and is written buffered.
//
// Coherence: reads (hash checks, resume checks, seeding with pread or sendfile) go through the file's
// ordinary buffered descriptor. On Linux an O_DIRECT write first writes back and then drops the page-cache
// pages of the range it covers, so a buffered read after it reads the new bytes from the disk, never a
// stale cached page; the buffered head and tail never share a page with a direct middle (the middle is
// page-aligned at both ends).

import * as fs from "node:fs";

/** Position, address and length multiple of a direct write (see above). */
export const DIRECT_ALIGNMENT = 4096;

/** Linux's O_DIRECT (0o40000 on x86_64; Bun's fs.constants has it where the platform does). */
export const O_DIRECT: number = process.platform === "linux" ? (fs.constants.O_DIRECT ?? 0) : 0;

/** The process's choice, set once from the command line (--no-direct-io) or BTPEER_DIRECT_IO=0; on by default on Linux. */
let enabled = O_DIRECT !== 0 && process.env.BTPEER_DIRECT_IO !== "0";

/** Turns direct piece writes on or off for files opened from now on; on is a no-op where there is no O_DIRECT. */
export function setDirectWrites(on: boolean): void {
  enabled = on && O_DIRECT !== 0;
}

export function directWritesEnabled(): boolean {
  return enabled;
}

/** How a write of `length` bytes at file `position` from memory `address` splits: buffered head, direct middle, rest buffered. */
export interface DirectCut {
  head: number;
  middle: number;
}

/** The aligned middle of a write, or null when it has none (too short, or address and position misaligned to each other). */
export function directCut(address: number, position: number, length: number): DirectCut | null {
  const head = (DIRECT_ALIGNMENT - (position % DIRECT_ALIGNMENT)) % DIRECT_ALIGNMENT;
  if ((address + head) % DIRECT_ALIGNMENT !== 0) return null;
  const middle = Math.floor((length - head) / DIRECT_ALIGNMENT) * DIRECT_ALIGNMENT;
  return middle > 0 ? { head, middle } : null;
}
