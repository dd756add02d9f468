// `sync/maindata`: the first answer is the full state with a response id (`rid`); a request that names
// the rid of the last answer its session got gets only what changed since that answer (changed fields of
// changed torrents, removed torrents, categories and tags), which is how tools poll a client with
// thousands of torrents cheaply. As in qBittorrent, what is kept is per session: the last answer each
// session (SID) got; any other rid (older, another session's, unknown, 0) gets a full update. Requests
// with the API token rather than a session share one. Bounded: at most KEPT_SESSIONS sessions' answers,
// each dropped after IDLE_MS without a request (its next one is a full update).
// Kept answers share every torrent record (and tracker list) that did not change since the latest one.

type Fields = Record<string, unknown>;

export interface MainData {
  torrents: Record<string, Fields>;
  categories: Record<string, Fields>;
  tags: string[];
  server_state: Fields;
  trackers: Record<string, string[]>;
}

/** Sessions whose last answer is kept (qBittorrent keeps one per session; tools poll with one or two). */
const KEPT_SESSIONS = 16;
/** A session silent this long has stopped polling: its answer is not kept for it. */
const IDLE_MS = 10 * 60 * 1000;

/** The last answer a session got. */
interface Sent {
  readonly rid: number;
  readonly data: MainData;
  readonly at: number;
}

export class MainDataSync {
  private nextRid = 1;
  /** Session → its last answer; Map order = least recently used first. */
  private readonly sent = new Map<string, Sent>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The answer to `session`'s request naming `rid`, `current` being the state now (kept, not copied). */
  answer(session: string, rid: number, current: MainData): Fields {
    const t = this.now();
    const last = this.sent.get(session);
    this.sent.delete(session);
    this.expire(t);
    const latest = [...this.sent.values()].at(-1) ?? last;
    if (latest) shareUnchanged(latest.data, current);
    const id = this.nextRid++;
    this.sent.set(session, { rid: id, data: current, at: t });
    if (this.sent.size > KEPT_SESSIONS) this.sent.delete(this.sent.keys().next().value!);
    if (!last || rid <= 0 || last.rid !== rid) return { rid: id, full_update: true, ...current };
    return { rid: id, ...diff(last.data, current) };
  }

  /** The session ended (logged out): its answer is not kept. */
  forget(session: string): void {
    this.sent.delete(session);
  }

  /** Distinct torrent records held by the kept answers (what their memory grows with). */
  heldTorrentRecords(): number {
    const records = new Set<Fields>();
    for (const { data } of this.sent.values()) for (const fields of Object.values(data.torrents)) records.add(fields);
    return records.size;
  }

  private expire(t: number): void {
    for (const [session, { at }] of this.sent) {
      if (t - at <= IDLE_MS) break; // least recently used first: the rest are more recent
      this.sent.delete(session);
    }
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
