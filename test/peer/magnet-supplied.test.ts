// Metadata handed to a magnet link that is still fetching it (MagnetTorrent.supplyMetadata, what the daemon
// does with a .torrent added for the link's info hash), on a real Client on loopback: metadata whose SHA-1 is
// another info hash is refused with both hashes named and changes nothing; the right metadata ends the fetch
// at once and goes to `prepare` as a .torrent with the link's trackers first, then those it lacked, and the
// web seeds; a private torrent keeps its own trackers alone; once taken, nothing more is.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { toHex } from "../../shared/bytes.ts";
import { parseMagnet } from "../../shared/magnet.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { Client } from "../../peer/client/client.ts";
import type { MagnetTorrent } from "../../peer/metadata/magnet-torrent.ts";
import type { TorrentEvent } from "../../peer/torrent/events.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { makeTorrent } from "../support/seed-fixture.ts";

let dir = "";
let open: Metainfo;
let closed: Metainfo;
let client: Client;
const linkTracker = "http://127.0.0.1:1/announce";
const other = "http://127.0.0.1:2/announce";

beforeAll(async () => {
  dir = makeTempDir("btpeer-magnet-supplied-");
  const source = path.join(dir, "data.bin");
  makeRandomFile(source, 100_000, 3);
  const read = async (name: string, opts: { private?: boolean }) =>
    parseMetainfo(new Uint8Array(fs.readFileSync(await makeTorrent(source, path.join(dir, name), { trackers: [other], pieceLength: 16384, ...opts }))));
  open = await read("open.torrent", {});
  closed = await read("private.torrent", { private: true });
  client = new Client({ port: 0, bind: "127.0.0.1" });
  client.start();
});

afterAll(async () => {
  await client.stop();
  removeDir(dir);
});

/** A magnet link of `meta`'s info hash whose one peer never answers; `prepare` records what it was given and ends there. */
function waiting(meta: Metainfo) {
  const events: TorrentEvent[] = [];
  const prepared: { meta: Metainfo; torrentFile: Uint8Array }[] = [];
  const magnet: MagnetTorrent = client.addMagnet({
    link: parseMagnet(`magnet:?xt=urn:btih:${toHex(meta.infoHash)}&tr=${encodeURIComponent(linkTracker)}`),
    peers: [{ ip: "127.0.0.1", port: freePort() }],
    maxPeers: 10,
    onEvent: (e) => events.push(e),
    prepare: async (got, torrentFile) => {
      prepared.push({ meta: got, torrentFile });
      return { code: "unwritable", message: "this test looks at the metadata only" };
    },
  });
  magnet.start();
  return { magnet, events, prepared };
}

const supplied = (meta: Metainfo, extra: { announceList?: string[][]; urlList?: string[] } = {}) => ({
  infoBytes: meta.infoBytes,
  announceList: extra.announceList ?? meta.announceList,
  urlList: extra.urlList ?? meta.urlList,
  private: meta.private,
});

test("another torrent's metadata is refused, naming both hashes; the right one ends the fetch with the trackers merged and the web seeds", async () => {
  const { magnet, events, prepared } = waiting(open);
  const refused = magnet.supplyMetadata(supplied(closed));
  expect(refused?.code).toBe("info-mismatch");
  expect(refused?.message).toContain(toHex(closed.infoHash));
  expect(refused?.message).toContain(toHex(open.infoHash));
  expect(magnet.state).toBe("metadata");

  const tiers = [[linkTracker, other], ["http://127.0.0.1:3/announce"]];
  expect(magnet.supplyMetadata(supplied(open, { announceList: tiers, urlList: ["http://127.0.0.1:4/"] }))).toBeNull();
  expect(magnet.state).toBe("preparing");
  await magnet.finished;
  expect(prepared.length).toBe(1);
  const got = prepared[0]!.meta;
  expect(toHex(got.infoHash)).toBe(toHex(open.infoHash));
  expect(got.announceList).toEqual([[linkTracker], [other], ["http://127.0.0.1:3/announce"]]);
  expect(got.urlList).toEqual(["http://127.0.0.1:4/"]);
  expect(parseMetainfo(prepared[0]!.torrentFile).infoBytes).toEqual(open.infoBytes);
  expect(events.filter((e) => e.event === "metadata" && e.done)).toEqual([expect.objectContaining({ received: 1, total: 1 })]);
  // The phase is over: nothing more is taken.
  expect(magnet.supplyMetadata(supplied(open))?.code).toBe("not-fetching");
});

test("a private torrent's metadata goes on with its own trackers alone (BEP 27)", async () => {
  const { magnet, prepared } = waiting(closed);
  expect(magnet.supplyMetadata(supplied(closed))).toBeNull();
  await magnet.finished;
  expect(prepared.map((p) => [p.meta.private, p.meta.announceList])).toEqual([[true, [[other]]]]);
});
