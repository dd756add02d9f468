// What a torrent added through the daemon keeps once it is dormant, counted in the JS heap after a full
// collection: its info hash must not hold an ArrayBuffer of its own (JavaScriptCore makes one for life once
// a small Uint8Array's `.buffer` is read), nor its entry a totals object of its own when it has moved no
// byte (the shared zero does). 10,000 torrents added through the API held 10,000 of each.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { heapStats } from "bun:jsc";
import fs from "node:fs";
import path from "node:path";
import { encode } from "../../shared/bencode.ts";
import { toHex } from "../../shared/bytes.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Daemon } from "../../peer/daemon/service.ts";
import { makeTempDir, removeDir } from "../support/files.ts";
import { until } from "../support/until.ts";
import { openDaemon } from "./dormant-fixture.ts";

const COUNT = 300;
let tmp: string;
beforeAll(() => {
  tmp = makeTempDir("btpeer-dormant-memory-");
});
afterAll(() => removeDir(tmp));

const counts = () => {
  Bun.gc(true);
  const types = heapStats().objectTypeCounts;
  return { arrayBuffers: types.ArrayBuffer ?? 0, objects: types.Object ?? 0 };
};

/** A torrent of one 16 KiB file of random bytes in `dir`: its .torrent's bytes. */
function smallTorrent(dir: string, i: number): Uint8Array {
  const name = `t${i}.bin`;
  const data = crypto.getRandomValues(new Uint8Array(16 * 1024));
  fs.writeFileSync(path.join(dir, name), data);
  const pieces = new Bun.CryptoHasher("sha1").update(data).digest();
  return Uint8Array.from(encode({ info: { length: data.length, name: new TextEncoder().encode(name), "piece length": data.length, pieces } }));
}

test("a parsed torrent's info hash holds no ArrayBuffer", () => {
  const te = new TextEncoder();
  const torrents = Array.from({ length: COUNT }, (_, i) =>
    Uint8Array.from(encode({ info: { length: 16384, name: te.encode(`t${i}.bin`), "piece length": 16384, pieces: new Uint8Array(20).fill(i % 256) } })),
  );
  const before = counts();
  const hashes = torrents.map((bytes) => parseMetainfo(bytes).infoHash);
  const grown = counts().arrayBuffers - before.arrayBuffers;
  expect(new Set(hashes.map(toHex)).size).toBe(COUNT);
  expect(grown).toBeLessThan(COUNT / 10); // before: one per hash
});

test("torrents added one by one and gone dormant hold no ArrayBuffer and no totals object each", async () => {
  const data = path.join(tmp, "data");
  fs.mkdirSync(data, { recursive: true });
  const torrents = Array.from({ length: COUNT }, (_, i) => smallTorrent(data, i));
  const daemon: Daemon = openDaemon(path.join(tmp, "state"), data);
  try {
    await daemon.loaded;
    const before = counts();
    for (const bytes of torrents) {
      const hex = await daemon.add({ source: { torrent: bytes.slice() }, savePath: data });
      await until(() => daemon.dormant(hex), `${hex} dormant`, { tries: 2000, everyMs: 10 });
    }
    const after = counts();
    const perTorrent = (after.objects - before.objects) / COUNT;
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(COUNT / 10); // before: one per torrent
    // Its record, its list facts and the client's hold on it: about 3.5; one more with a totals object each.
    expect(perTorrent).toBeLessThan(4);
  } finally {
    await daemon.close();
  }
}, 120_000);
