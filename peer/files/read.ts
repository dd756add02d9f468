// Streams a file's bytes in big chunks through two reused buffers: memory stays flat however large the
// file, and the next chunk is read while the consumer hashes the current one (reading and SHA-1 then
// overlap instead of taking turns). Each yielded chunk is a view that is overwritten once the
// consumer asks for the chunk after next, so it must be done with it by then (createTorrent hashes
// each chunk at once).
import { open } from "node:fs/promises";

export const READ_CHUNK = 4 * 1024 * 1024;

export type ReadBuffers = [Uint8Array, Uint8Array];

export function readBuffers(size = READ_CHUNK): ReadBuffers {
  return [new Uint8Array(size), new Uint8Array(size)];
}

export async function* readChunks(diskPath: string, length: number, buffers: ReadBuffers = readBuffers()): AsyncGenerator<Uint8Array> {
  const handle = await open(diskPath, "r");
  const readInto = (buffer: Uint8Array, at: number) =>
    handle.read(buffer, 0, Math.min(buffer.length, length - at), at).then((r) => buffer.subarray(0, r.bytesRead));
  let pending: Promise<Uint8Array> | null = length > 0 ? readInto(buffers[0], 0) : null;
  try {
    let position = 0;
    let which = 0;
    while (pending) {
      const chunk = await pending;
      if (chunk.length === 0) return; // the file shrank: the caller sees fewer bytes than listed
      position += chunk.length;
      which ^= 1;
      pending = position < length ? readInto(buffers[which]!, position) : null;
      yield chunk;
    }
    // One byte past the listed end tells the caller the file grew while it was read.
    const { bytesRead } = await handle.read(buffers[0], 0, 1, position);
    if (bytesRead > 0) yield buffers[0].subarray(0, 1);
  } finally {
    // A consumer that stops early (an error) may leave a read in flight: let it end before closing.
    await pending?.catch(() => {});
    await handle.close();
  }
}
