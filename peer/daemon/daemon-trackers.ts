// Changing the trackers of one of the daemon's torrents, a magnet link still fetching its metadata too,
// through the API (an edit, tracker-list.ts). The entry stores and applies the result.
import type { TrackerEdit } from "./control.ts";
import type { DaemonTorrents } from "./daemon-torrents.ts";
import { editedTiers, sameTiers } from "./tracker-list.ts";

/** Applies the edit to the torrent of `infoHash` (any case); DaemonError as editedTiers says, or not-found. */
export function editTrackers(torrents: DaemonTorrents, infoHash: string, edit: TrackerEdit): void {
  const target = torrents.tracked(infoHash);
  const tiers = editedTiers(target.tiers, edit);
  if (!sameTiers(tiers, target.tiers)) target.setTrackers(tiers);
}
