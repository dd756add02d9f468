// One Client, two torrents, one port: incoming connections are routed to the torrent their handshake
// names. The client seeds both torrents in this process; real btpeer leechers dial its one port, each for
// its own torrent, and download it (checksums). A handshake for an info hash the client does not serve
// is dropped without an answer.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { decodeHandshake, encodeHandshake } from "../../shared/wire/codec.ts";
import { Client } from "../../peer/client/client.ts";
import { TorrentStorage, verifyExisting } from "../../peer/storage/index.ts";
import type { Torrent } from "../../peer/torrent/torrent.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { isEvent, makeTorrent, startBtpeer } from "./btpeer-harness.ts";

let dir = "";
const sources: string[] = [];
const torrents: string[] = [];

beforeAll(async () => {
  dir = makeTempDir("btpeer-client-");
  for (const [i, name] of ["a", "b"].entries()) {
    const source = path.join(dir, `src-${name}`, `${name}.bin`);
    fs.mkdirSync(path.dirname(source), { recursive: true });
    makeRandomFile(source, 1024 * 1024 + 1000 * (i + 1), 40 + i);
    sources.push(source);
    torrents.push(await makeTorrent(source, path.join(dir, `${name}.torrent`), { pieceLength: 32 * 1024 }));
  }
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

/** Adds the torrent at `torrentPath`, whose data is complete in `dataDir`, and starts seeding it. */
async function seedOn(client: Client, torrentPath: string, dataDir: string): Promise<Torrent> {
  const meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrentPath)));
  const storage = TorrentStorage.open(meta, dataDir);
  const have = await verifyExisting(meta, dataDir);
  const torrent = client.addTorrent({ meta, storage, have, dir: dataDir, poolBytes: 1 << 20, maxPeers: 10, peers: [], seed: true, onEvent: () => {} });
  torrent.start();
  return torrent;
}

/** Sends a handshake for `infoHash` and resolves with the bytes received until the client closes the socket. */
function handshakeWith(port: number, infoHash: Uint8Array): Promise<Uint8Array> {
  const peerId = new TextEncoder().encode("-XX0001-clienttest00");
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const done = () => resolve(new Uint8Array(Buffer.concat(chunks)));
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(socket) {
          socket.write(encodeHandshake({ reserved: new Uint8Array(8), infoHash, peerId }));
        },
        data(socket, chunk) {
          chunks.push(new Uint8Array(chunk));
          // Our own handshake answered: enough to know where it was routed.
          if (Buffer.concat(chunks).length >= 68) socket.end();
        },
        close: done,
        error: (_socket, error) => reject(error),
        connectError: (_socket, error) => reject(error),
      },
    }).catch(reject);
  });
}

describe("Client", () => {
  test("two torrents on one port: each leecher's connections reach its torrent, and each downloads it", async () => {
    const client = new Client({ port: 0, bind: "127.0.0.1" });
    client.start();
    try {
      const seeded = [await seedOn(client, torrents[0]!, path.dirname(sources[0]!)), await seedOn(client, torrents[1]!, path.dirname(sources[1]!))];
      expect(seeded.map((t) => t.state)).toEqual(["seeding", "seeding"]);
      const outs = ["a", "b"].map((name) => path.join(dir, `out-${name}`));
      const leechers = await Promise.all(
        torrents.map((t, i) => startBtpeer(["download", t, "--out", outs[i]!, "--no-seed", "--peer", `127.0.0.1:${client.port}`], { name: `leecher ${i}` })),
      );
      for (const leecher of leechers) {
        await leecher.waitFor(isEvent("completed"), 60_000);
        expect(await leecher.service.exited).toBe(0);
      }
      for (const [i, source] of sources.entries()) {
        expect(await sha256File(path.join(outs[i]!, path.basename(source)))).toBe(await sha256File(source));
      }
      // Each torrent served its own leecher: both uploaded at least their whole data.
      for (const [i, torrent] of seeded.entries()) expect(torrent.totals().uploaded).toBeGreaterThanOrEqual(fs.statSync(sources[i]!).size);
    } finally {
      await client.stop();
    }
  }, 120_000);

  test("a handshake is answered for a torrent the client serves, and dropped unanswered for an unknown info hash", async () => {
    const client = new Client({ port: 0, bind: "127.0.0.1" });
    client.start();
    try {
      const torrent = await seedOn(client, torrents[0]!, path.dirname(sources[0]!));
      const meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrents[0]!)));

      const known = await handshakeWith(client.port, meta.infoHash);
      const reply = decodeHandshake(known, 0);
      expect("value" in reply && Buffer.from(reply.value.infoHash).equals(Buffer.from(meta.infoHash))).toBe(true);

      const unknown = await handshakeWith(client.port, new Uint8Array(20).fill(0xab));
      expect(unknown.length).toBe(0);
      expect(torrent.state).toBe("seeding");
      await client.stop();
      expect(torrent.state).toBe("stopped");
    } finally {
      await client.stop();
    }
  }, 60_000);
});
