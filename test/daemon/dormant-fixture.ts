// Daemons for the dormant torrents' tests: one over a state folder on loopback, and a seeding torrent added
// and left until it is dormant with its resume data stored, the state a restart starts it dormant from.
import fs from "node:fs";
import { Daemon } from "../../peer/daemon/service.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { until } from "../support/until.ts";

/** A daemon over `stateDir`, listening on 127.0.0.1 at a port of the system's choice, logging nothing. */
export function openDaemon(stateDir: string, downloadDir: string): Daemon {
  return Daemon.open({ stateDir, downloadDir, port: 0, bind: "127.0.0.1", log: () => {} });
}

/** Adds the .torrent at `torrentPath` (its files under `savePath`) and waits until it is dormant with its resume data stored. */
export async function addUntilDormant(daemon: Daemon, torrentPath: string, savePath: string): Promise<void> {
  const bytes = new Uint8Array(fs.readFileSync(torrentPath));
  const { infoHash } = parseMetainfo(bytes);
  const hex = Buffer.from(infoHash).toString("hex");
  await daemon.add({ source: { torrent: bytes }, savePath });
  await until(() => daemon.dormant(hex) && daemon.store.getResume(infoHash) !== null, "dormant with its resume data", { tries: 600, everyMs: 50 });
}
