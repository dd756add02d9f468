// A magnet link's trackers changed while its metadata is handed over to the torrent it becomes, in the
// daemon (DaemonControl.editTrackers, what both APIs call) with its real parts in this process, a real
// btpeer seeder process serving the metadata on loopback and our tracker recording each announce. The
// handover (verified metadata, its .torrent, the torrent's entry, the client's Torrent, the swap of entries)
// runs within one turn of the event loop today, so an HTTP request cannot land inside it; a listener of
// the daemon's events hears them as they are emitted, inside it: the edit is made at the `metadata` event
// that says the metadata is in (the .torrent is about to be made), and at the Torrent's first event (its
// entry is made, the swap has not happened). Either way the torrent goes on with the edited list: in the
// edit's answer, the view, the stored .torrent (so after a restart) and its running announcer's announces;
// no magnet link is left in the state, and the tracker replaced, announced to by the fetch, hears `stopped`.
import { afterAll, beforeAll, expect, test } from "bun:test";
import path from "node:path";
import type { InfoHash } from "../../shared/ids.ts";
import { formatMagnet } from "../../shared/magnet.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { DaemonEvent, TorrentDetail } from "../../peer/daemon/control.ts";
import type { Daemon } from "../../peer/daemon/service.ts";
import type { Btpeer } from "../peer/btpeer-harness.ts";
import { makeTempDir, removeDir } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { type RecordingTracker, startRecordingTracker } from "../support/recording-tracker.ts";
import { until } from "../support/until.ts";
import { openDaemon } from "./dormant-fixture.ts";
import { seedOneFile } from "./magnet-handover-fixture.ts";

let dir = "";
let tracker: RecordingTracker;
let seeder: Btpeer;
let hex = "";
let infoHash: InfoHash;

beforeAll(async () => {
  dir = makeTempDir("btpeer-magnet-tracker-handover-");
  tracker = startRecordingTracker();
  ({ infoHash, hex, seeder } = await seedOneFile(dir, { trackers: [tracker.url("s")] }));
});

afterAll(async () => {
  await stopAllServices();
  tracker?.stop();
  removeDir(dir);
}, 30_000);

const urls = (daemon: Daemon) => daemon.get(hex).trackers.map((t) => t.url);

test.each([
  ["the metadata is in", (e: DaemonEvent) => e.event === "metadata" && e.done],
  // The Torrent's first event: it checks what is on disk, made by the client from the daemon's settings.
  ["the torrent starts its check", (e: DaemonEvent) => e.event === "checking"],
])(
  "a tracker replaced when %s: the torrent goes on with the new one (listed, stored, announced to), the old one told `stopped`",
  async (when, at) => {
    const name = when.replaceAll(/\W+/g, "-");
    const state = path.join(dir, `state-${name}`);
    const link = formatMagnet({ infoHash, trackers: [tracker.url(`a-${name}`)], peers: [seeder.address] });
    const daemon = openDaemon(state, path.join(dir, `down-${name}`));
    let answer: Promise<TorrentDetail> | null = null;
    let stateAtEdit = "";
    try {
      daemon.subscribe((e) => {
        if (e.infoHash !== hex) return;
        if (answer || !at(e)) return;
        stateAtEdit = daemon.get(hex).state;
        answer = daemon.editTrackers(hex, { replace: tracker.url(`a-${name}`), by: tracker.url(`b-${name}`) });
      });
      await daemon.add({ source: { magnet: link } });
      await until(() => answer !== null && daemon.get(hex).state !== "metadata", "the metadata handed over", { tries: 600, everyMs: 50 });
      expect(stateAtEdit).toBe("metadata"); // the magnet link's entry still answered for it
      // The edit was taken (as the API would answer it), and it is the torrent's:
      expect((await answer!).trackers.map((t) => t.url)).toEqual([tracker.url(`b-${name}`)]);
      expect(urls(daemon)).toEqual([tracker.url(`b-${name}`)]);
      const stored = parseMetainfo(daemon.store.getTorrent(infoHash)!.metainfo);
      expect(stored.announceList).toEqual([[tracker.url(`b-${name}`)]]);
      expect(daemon.store.getBlob(`magnet:${hex}`)).toBeNull();
      await until(() => tracker.to(`b-${name}`, hex).length > 0, "an announce to the new tracker", { tries: 600, everyMs: 50 });
      // The replaced one, which the fetch announced to, is told that we left it (as after any replacement).
      await until(() => tracker.to(`a-${name}`, hex).at(-1)?.event === "stopped", "`stopped` to the replaced tracker", { tries: 600, everyMs: 50 });
    } finally {
      await daemon.close();
    }
    const again = openDaemon(state, path.join(dir, `down-${name}`));
    try {
      await again.loaded;
      expect(urls(again)).toEqual([tracker.url(`b-${name}`)]);
    } finally {
      await again.close();
    }
  },
  120_000,
);
