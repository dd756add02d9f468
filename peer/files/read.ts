// Streams a file's bytes in big chunks through ONE reused buffer: memory stays flat however large the
// file. Each yielded chunk is a view that is overwritten by the next read, so a consumer must be done
// with it before asking for the next (createTorrent hashes it at once).
import { open } from "node:fs/promises";

export const READ_CHUNK = 4 * 1024 * 1024;

export async function* readChunks(diskPath: string, length: number, buffer = new Uint8Array(READ_CHUNK)): AsyncGenerator<Uint8Array> {
  const handle = await open(diskPath, "r");
  try {
    let position = 0;
    while (position < length) {
      const want = Math.min(buffer.length, length - position);
      const { bytesRead } = await handle.read(buffer, 0, want, position);
      if (bytesRead === 0) return; // the file shrank: the caller sees fewer bytes than listed
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
    // One byte past the listed end tells the caller the file grew while it was read.
    const { bytesRead } = await handle.read(buffer, 0, 1, position);
    if (bytesRead > 0) yield buffer.subarray(0, 1);
  } finally {
    await handle.close();
  }
}
