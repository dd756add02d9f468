// The one copy of a received block into its pool slot, with streaming (non-temporal) stores where machine
// code can run (../native/stream-copy.c, loaded by ../native/machine-code.ts). A slot is written long after
// it was last touched (the pool turns over tens of MiB between two uses of one slot, while the socket's bytes
// stream through the cache), so an ordinary copy first reads every destination line from memory only to
// overwrite it. The hashing thread then reads the piece from memory rather than from the cache, which costs
// it nothing it can see: SHA-1 is slower than memory. In process, 1 GiB in 16 KiB blocks into a 64 MiB
// pool: Uint8Array.set 150–230 ms, streaming stores 105–135 ms. Elsewhere, or with BTPEER_STREAM_COPY=0,
// Uint8Array.set: the same bytes, ordinary stores.
import { FFIType, ptr } from "bun:ffi";
import { loadMachineCode } from "../native/machine-code.ts";
import { CODE_BASE64, OFFSETS } from "../native/stream-copy-code.ts";

/** Below this, an ordinary copy: the call and the alignment prologue would cost more than they save. */
const MIN_STREAM_BYTES = 1024;

type StreamCopy = (dst: number, src: number, length: number) => void;
let streamCopy: StreamCopy | null | undefined;

function load(): StreamCopy | null {
  if (process.env.BTPEER_STREAM_COPY === "0") return null;
  const code = loadMachineCode(CODE_BASE64, OFFSETS, { stream_copy: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.void } });
  if (code === null) return null;
  const copy = code.stream_copy as unknown as StreamCopy;
  // One check that the loop copies what it should, before any slot depends on it.
  const from = new Uint8Array(300).map((_, i) => (i * 37 + 11) & 255);
  const to = new Uint8Array(320);
  copy(ptr(to) + 3, ptr(from) + 1, 290);
  for (let i = 0; i < 320; i++) if (to[i] !== (i >= 3 && i < 293 ? from[i - 2] : 0)) return null;
  return copy;
}

/** True when copies into slots use streaming stores on this system. */
export function streamCopyAvailable(): boolean {
  if (streamCopy === undefined) streamCopy = load();
  return streamCopy !== null;
}

/** `target.set(source, offset)`, with streaming stores when they are available and the copy is large. */
export function copyIntoSlot(target: Uint8Array, source: Uint8Array, offset: number): void {
  if (source.length < MIN_STREAM_BYTES || !streamCopyAvailable()) return target.set(source, offset);
  if (offset < 0 || offset + source.length > target.length) throw new RangeError("copyIntoSlot: source does not fit the target");
  streamCopy!(ptr(target) + offset, ptr(source), source.length);
}
