// Changing the trackers of one of the daemon's torrents, a magnet link still fetching its metadata too:
// through the API (an edit, tracker-list.ts), or by adding again a torrent it has, whose trackers that it
// lacks are merged in, as qBittorrent does with a duplicate add. The entry stores and applies the result.
import { isSupportedTracker } from "../tracker/tracker-client.ts";
import type { TrackerEdit } from "./control.ts";
import type { DaemonTorrents } from "./daemon-torrents.ts";
import { editedTiers, sameTiers } from "./tracker-list.ts";
import { mergeTiers } from "../../shared/metainfo/from-info.ts";

/** A magnet link's trackers as tiers: each a tier of its own, as its fetch announces to them. */
export const eachItsTier = (trackers: readonly string[]): string[][] => trackers.map((t) => [t]);

/** Applies the edit to the torrent of `infoHash` (any case); DaemonError as editedTiers says, or not-found. */
export function editTrackers(torrents: DaemonTorrents, infoHash: string, edit: TrackerEdit): void {
  const target = torrents.tracked(infoHash);
  const tiers = editedTiers(target.tiers, edit);
  if (!sameTiers(tiers, target.tiers)) target.setTrackers(tiers);
}

/**
 * A torrent added again (lower-case hex info hash): the trackers it brings (a .torrent's tiers, a magnet
 * link's `tr`) that the torrent lacks are added after its own, and the add stays a duplicate. Nothing is
 * merged into or out of a private torrent (BEP 27: its trackers are its own); only URLs btpeer announces to
 * are taken. Nothing happens when the info hash is not there.
 */
export function mergeDuplicateTrackers(torrents: DaemonTorrents, hex: string, tiers: readonly (readonly string[])[], isPrivate: boolean): void {
  if (isPrivate || !torrents.has(hex)) return;
  const target = torrents.tracked(hex);
  if (!("link" in target) && target.meta.private) return;
  const merged = mergeTiers(
    target.tiers,
    tiers.map((tier) => tier.filter(isSupportedTracker)),
  );
  if (!sameTiers(merged, target.tiers)) target.setTrackers(merged);
}
