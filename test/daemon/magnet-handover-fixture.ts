// The swarm of the magnet link handover tests: one random file, its .torrent (made with our create API,
// announcing to the trackers given, private or not) and a real btpeer process seeding it on loopback
// without DHT. The link is made of its info hash; the metadata comes from the seeder or from the .torrent.
// linkOnlyPeer: a peer only a link knows, a real btpeer fetching the metadata itself.
import fs from "node:fs";
import path from "node:path";
import { toHex } from "../../shared/bytes.ts";
import { formatMagnet } from "../../shared/magnet.ts";
import type { InfoHash } from "../../shared/ids.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { type Btpeer, startBtpeer } from "../peer/btpeer-harness.ts";
import { makeRandomFile } from "../support/files.ts";
import { makeTorrent } from "../support/seed-fixture.ts";

export interface SeededFile {
  /** <dir>/seed/one.bin, 150,000 bytes. */
  source: string;
  meta: Metainfo;
  infoHash: InfoHash;
  hex: string;
  seeder: Btpeer;
}

/** Makes <dir>/seed/one.bin and <dir>/one.torrent, and seeds it (the seeder announces to `trackers`). */
export async function seedOneFile(dir: string, opts: { trackers: string[]; private?: boolean }): Promise<SeededFile> {
  const source = path.join(dir, "seed", "one.bin");
  makeRandomFile(source, 150_000, 21);
  const torrentPath = await makeTorrent(source, path.join(dir, "one.torrent"), opts);
  const meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrentPath)));
  const infoHash = meta.infoHash as InfoHash;
  const seeder = await startBtpeer(["seed", torrentPath, "--dir", path.join(dir, "seed"), "--no-dht"], { name: "seeder" });
  return { source, meta, infoHash, hex: toHex(infoHash), seeder };
}

/**
 * A real btpeer process fetching `infoHash`'s metadata from a magnet link (no DHT) whose tracker is `tracker`:
 * in that tracker's swarm, listening, with no metadata to give (so a link that knows it still waits for its
 * metadata), dialling nobody until someone shows it a peer. A seeder would do for a peer the link knows,
 * but it would serve the link its metadata at once, before a .torrent could be handed over.
 */
export async function linkOnlyPeer(dir: string, infoHash: InfoHash, tracker: string): Promise<Btpeer> {
  const link = formatMagnet({ infoHash, trackers: [tracker], peers: [] });
  const peer = await startBtpeer(["download", link, "--out", dir, "--no-dht"], { name: "link-only peer", readyEvent: "magnet" });
  await peer.waitFor((e) => e.event === "tracker"); // in the tracker's swarm before anyone asks it for peers
  return peer;
}
