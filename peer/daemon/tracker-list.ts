// A torrent's tracker tiers (BEP 12) as the API changes them: trackers added, one tracker's URL replaced,
// trackers removed, and a duplicate add's trackers merged in. Pure: the entries store and apply the result
// (torrent-entry.ts, magnet-entry.ts). A change that cannot be is refused whole, naming what is at fault.
import { mergeTiers } from "../../shared/metainfo/from-info.ts";
import { DaemonError, type TrackerEdit } from "./control.ts";

/** Why `url` cannot be a tracker of ours (HTTP(S), BEP 3; UDP, BEP 15, with its port), or null when it can. */
export function trackerUrlProblem(url: string): string | null {
  const wanted = "must be an http(s):// or udp://host:port tracker URL";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${wanted}, got "${url}"`;
  }
  if (url.trim() !== url || parsed.hostname === "") return `${wanted}, got "${url}"`;
  if (parsed.protocol === "http:" || parsed.protocol === "https:") return null;
  if (parsed.protocol === "udp:") return parsed.port === "" ? `${wanted} (a udp:// URL needs its port), got "${url}"` : null;
  return `${wanted} (btpeer announces to no other kind), got "${url}"`;
}

/** Throws DaemonError bad-request for the first URL that cannot be a tracker. */
export function checkTrackerUrls(urls: readonly string[]): void {
  for (const url of urls) {
    const problem = trackerUrlProblem(url);
    if (problem !== null) throw new DaemonError("bad-request", `tracker URL ${problem}`);
  }
}

/**
 * The tiers after `edit`. Added trackers come after the torrent's, each a tier of its own in the order given
 * (BEP 12: tried when those before fail); those it has already are passed by. A replaced tracker keeps its
 * place. Throws DaemonError: a URL that cannot be a tracker (bad-request), a tracker to replace or remove that
 * the torrent lacks (no-such-tracker), a replacement it has already (tracker-exists).
 */
export function editedTiers(tiers: readonly (readonly string[])[], edit: TrackerEdit): string[][] {
  const has = new Set(tiers.flat());
  if ("add" in edit) {
    checkTrackerUrls(edit.add);
    return mergeTiers(
      tiers,
      edit.add.map((url) => [url]),
    );
  }
  if ("replace" in edit) {
    if (edit.replace === edit.by) return tiers.map((tier) => [...tier]); // nothing to do, as in qBittorrent
    checkTrackerUrls([edit.by]);
    if (has.has(edit.by)) throw new DaemonError("tracker-exists", `the torrent has the tracker ${edit.by} already`);
    if (!has.has(edit.replace)) throw new DaemonError("no-such-tracker", `the torrent has no tracker ${edit.replace}`);
    return tiers.map((tier) => tier.map((url) => (url === edit.replace ? edit.by : url)));
  }
  const missing = edit.remove.filter((url) => !has.has(url));
  if (missing.length > 0) throw new DaemonError("no-such-tracker", `the torrent has no tracker ${missing.join(", ")}`);
  const gone = new Set(edit.remove);
  return tiers.map((tier) => tier.filter((url) => !gone.has(url))).filter((tier) => tier.length > 0);
}

/** Whether two tier lists are the same (nothing to store or apply). */
export function sameTiers(a: readonly (readonly string[])[], b: readonly (readonly string[])[]): boolean {
  return a.length === b.length && a.every((tier, i) => tier.length === b[i]!.length && tier.every((url, j) => url === b[i]![j]));
}
