// A seeder's progress events when a peer's whole visit falls between two of its seconds. A seeding torrent
// with no peer reports once that it went idle, then stays quiet; a fast leecher can connect, take a small
// torrent and leave within one second (libtorrent takes 9.5 MB from btpeer on loopback in ~0.6 s), and the
// bytes it took must still be reported. A Client in this process seeds; a real PeerConnection dials it as a
// leecher and takes one block; the test drives the torrent's seconds itself (torrent.tick) so that the
// visit falls between two of them every time, not one run in a few.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { Client } from "../../peer/client/client.ts";
import type { ConnectionHandler } from "../../peer/net/connection-types.ts";
import { TorrentStorage, verifyExisting } from "../../peer/storage/index.ts";
import type { TorrentEvent } from "../../peer/torrent/events.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { makeTorrent } from "./btpeer-harness.ts";
import { dialLeecher } from "./dial-leecher.ts";

let dir = "";

beforeAll(() => {
  dir = makeTempDir("btpeer-seeding-progress-");
});

afterAll(() => {
  removeDir(dir);
});

const progressOf = (events: TorrentEvent[]) => events.filter((e): e is Extract<TorrentEvent, { event: "progress" }> => e.event === "progress");

test("a peer that comes, downloads and leaves between two seconds of an idle seeder has its upload reported", async () => {
  const source = path.join(dir, "src", "data.bin");
  fs.mkdirSync(path.dirname(source), { recursive: true });
  makeRandomFile(source, 4 * 32 * 1024 + 100, 21);
  const meta = parseMetainfo(new Uint8Array(fs.readFileSync(await makeTorrent(source, path.join(dir, "data.torrent"), { pieceLength: 32 * 1024 }))));
  const dataDir = path.dirname(source);

  const client = new Client({ port: 0, bind: "127.0.0.1" });
  client.start();
  // The test gives the torrent its seconds: the client's own once-a-second timer would land one inside the
  // visit now and then, and the idle report would then be right by luck.
  clearInterval((client as unknown as { timer: ReturnType<typeof setInterval> }).timer);
  const events: TorrentEvent[] = [];
  const torrent = client.addTorrent({
    meta,
    storage: TorrentStorage.open(meta, dataDir),
    have: await verifyExisting(meta, dataDir),
    dir: dataDir,
    poolBytes: 1 << 20,
    maxPeers: 10,
    peers: [],
    seed: true,
    onEvent: (e) => events.push(e),
  });
  torrent.start();
  try {
    expect(torrent.state).toBe("seeding");
    torrent.tick();
    torrent.tick();
    // Idle: said once, then quiet.
    expect(progressOf(events)).toHaveLength(1);
    expect(progressOf(events)[0]).toMatchObject({ peers: 0, uploaded: 0 });

    // A leecher: interested, one block once unchoked, then it hangs up.
    let finished!: (outcome: string) => void;
    const visit = new Promise<string>((resolve) => (finished = resolve));
    let received = 0;
    const handler: ConnectionHandler = {
      onHandshake: () => null,
      onMessage: (conn, m) => {
        if (m.type === "have-all" || m.type === "bitfield") conn.send({ type: "interested" });
        if (m.type === "unchoke") conn.send({ type: "request", index: 0, begin: 0, length: BLOCK_SIZE });
        if (m.type === "piece") {
          received += m.block.length;
          conn.close({ code: "local", detail: "took its block" });
        }
      },
      onDrain: () => {},
      onClose: (_conn, reason) => finished(reason),
    };
    dialLeecher(meta, client.port, "-XX0001-quickvisit", handler, (reason) => finished(`dial failed: ${reason}`));
    await visit;
    expect(received).toBe(BLOCK_SIZE);
    // The seeder sees the hang-up on its next turns (bounded: 1,000 × 10 ms).
    for (let i = 0; i < 1000 && torrent.connectionCount() > 0; i++) await Bun.sleep(10);
    expect(torrent.connectionCount()).toBe(0);
    expect(progressOf(events)).toHaveLength(1); // no second passed during the visit

    torrent.tick();
    const reports = progressOf(events);
    expect(reports).toHaveLength(2);
    expect(reports[1]).toMatchObject({ peers: 0, uploaded: BLOCK_SIZE });
    torrent.tick();
    expect(progressOf(events)).toHaveLength(2); // idle again, with nothing new: quiet
  } finally {
    await client.stop();
  }
}, 30_000);
