// `sync/maindata`: the first answer is the full state with a response id (`rid`); a request that names
// a recent rid gets only what changed since that answer (changed fields of changed torrents, removed
// torrents, categories and tags), which is how tools poll a client with thousands of torrents cheaply.
// A few recent snapshots are kept (bounded); an unknown or old rid gets a full update, as in qBittorrent.
// Kept snapshots share every torrent record (and tracker list) that did not change since the latest one:
// each answer builds fresh objects, and 16 private copies of 10,000 torrents held hundreds of MiB.

type Fields = Record<string, unknown>;

export interface MainData {
  torrents: Record<string, Fields>;
  categories: Record<string, Fields>;
  tags: string[];
  server_state: Fields;
  trackers: Record<string, string[]>;
}

const KEPT_SNAPSHOTS = 16;

export class MainDataSync {
  private nextRid = 1;
  private readonly snapshots = new Map<number, MainData>();
  private latest: MainData | null = null;

  answer(rid: number, current: MainData): Fields {
    const previous = this.snapshots.get(rid);
    const id = this.nextRid++;
    if (this.latest) shareUnchanged(this.latest, current);
    this.latest = current;
    this.snapshots.set(id, current);
    if (this.snapshots.size > KEPT_SNAPSHOTS) this.snapshots.delete(this.snapshots.keys().next().value!);
    if (!previous) return { rid: id, full_update: true, ...current };
    return { rid: id, ...diff(previous, current) };
  }

  /** Distinct torrent records held by the kept snapshots (what their memory grows with). */
  heldTorrentRecords(): number {
    const records = new Set<Fields>();
    for (const snapshot of this.snapshots.values()) for (const fields of Object.values(snapshot.torrents)) records.add(fields);
    return records.size;
  }
}

/** Replaces `current`'s records that equal `latest`'s with `latest`'s objects (same content, no new copy kept). */
function shareUnchanged(latest: MainData, current: MainData): void {
  for (const [hash, fields] of Object.entries(current.torrents)) {
    const old = latest.torrents[hash];
    if (old && sameFields(old, fields)) current.torrents[hash] = old;
  }
  for (const [url, hashes] of Object.entries(current.trackers)) {
    const old = latest.trackers[url];
    if (old && old.length === hashes.length && old.every((h, i) => h === hashes[i])) current.trackers[url] = old;
  }
}

function diff(before: MainData, after: MainData): Fields {
  const out: Fields = {};
  const torrents = changedEntries(before.torrents, after.torrents);
  if (Object.keys(torrents).length > 0) out.torrents = torrents;
  const removed = Object.keys(before.torrents).filter((h) => !(h in after.torrents));
  if (removed.length > 0) out.torrents_removed = removed;
  const categories: Record<string, Fields> = {};
  for (const [name, c] of Object.entries(after.categories)) if (!sameFields(before.categories[name], c)) categories[name] = c;
  if (Object.keys(categories).length > 0) out.categories = categories;
  const categoriesRemoved = Object.keys(before.categories).filter((n) => !(n in after.categories));
  if (categoriesRemoved.length > 0) out.categories_removed = categoriesRemoved;
  const tags = after.tags.filter((t) => !before.tags.includes(t));
  if (tags.length > 0) out.tags = tags;
  const tagsRemoved = before.tags.filter((t) => !after.tags.includes(t));
  if (tagsRemoved.length > 0) out.tags_removed = tagsRemoved;
  const server = changedFields(before.server_state, after.server_state);
  if (Object.keys(server).length > 0) out.server_state = server;
  const trackers: Record<string, string[]> = {};
  for (const [url, hashes] of Object.entries(after.trackers)) if (before.trackers[url]?.join() !== hashes.join()) trackers[url] = hashes;
  if (Object.keys(trackers).length > 0) out.trackers = trackers;
  const trackersRemoved = Object.keys(before.trackers).filter((u) => !(u in after.trackers));
  if (trackersRemoved.length > 0) out.trackers_removed = trackersRemoved;
  return out;
}

function changedEntries(before: Record<string, Fields>, after: Record<string, Fields>): Record<string, Fields> {
  const out: Record<string, Fields> = {};
  for (const [key, fields] of Object.entries(after)) {
    const old = before[key];
    if (!old) {
      out[key] = fields;
      continue;
    }
    const changed = changedFields(old, fields);
    if (Object.keys(changed).length > 0) out[key] = changed;
  }
  return out;
}

function changedFields(before: Fields, after: Fields): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(after)) if (before[k] !== v) out[k] = v;
  return out;
}

function sameFields(a: Fields | undefined, b: Fields): boolean {
  return a !== undefined && Object.keys(changedFields(a, b)).length === 0 && Object.keys(a).length === Object.keys(b).length;
}
