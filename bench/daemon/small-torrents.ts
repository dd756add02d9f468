// N small single-file torrents for the daemon benches: each a file of `size` random bytes in `dataDir`
// and its .torrent (one or a few pieces; no tracker unless `announce` names one), made in-process since
// mktorrent would take minutes for 10,000.
import fs from "node:fs";
import path from "node:path";
import { encode } from "../../shared/bencode.ts";

export interface SmallTorrent {
  name: string;
  file: string;
  /** The .torrent's bytes. */
  bytes: Uint8Array<ArrayBuffer>;
  infoHash: string;
}

export function makeSmallTorrents(count: number, size: number, dataDir: string, torrentDir: string, announce?: string): SmallTorrent[] {
  fs.mkdirSync(dataDir, { recursive: true });
  fs.mkdirSync(torrentDir, { recursive: true });
  const pieceLength = 16 * 1024;
  const out: SmallTorrent[] = [];
  for (let i = 0; i < count; i++) {
    const name = `t${String(i).padStart(5, "0")}.bin`;
    const data = crypto.getRandomValues(new Uint8Array(size));
    fs.writeFileSync(path.join(dataDir, name), data);
    const pieces = new Uint8Array(Math.ceil(size / pieceLength) * 20);
    for (let p = 0; p * pieceLength < size; p++) {
      pieces.set(new Bun.CryptoHasher("sha1").update(data.subarray(p * pieceLength, (p + 1) * pieceLength)).digest(), p * 20);
    }
    const info = { length: size, name: new TextEncoder().encode(name), "piece length": pieceLength, pieces };
    const top = { info, "created by": new TextEncoder().encode("btswarm bench"), ...(announce ? { announce: new TextEncoder().encode(announce) } : {}) };
    const bytes = encode(top) as Uint8Array<ArrayBuffer>;
    const infoHash = new Bun.CryptoHasher("sha1").update(encode(info)).digest("hex");
    const file = path.join(torrentDir, `${name}.torrent`);
    fs.writeFileSync(file, bytes);
    out.push({ name, file, bytes, infoHash });
  }
  return out;
}
