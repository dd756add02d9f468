// Users, allowlist and accounting of the embedded store, with the same rules as the announce script
// (announce-script.ts): a passkey that names no enabled user, or a torrent off the allowlist in
// private mode, is refused before anything is written; bytes are the increases of the totals a
// client reports, a smaller total (the client restarted) counting from zero.
import { ZERO_USAGE, type AccountStore, type Page, type TorrentRecord, type Usage, type UserRecord } from "./account-store.ts";
import type { AnnounceInput, AnnounceRefusal } from "./swarm-store.ts";

/** What the store remembers of one client (user, torrent, peer id) between its announces. */
interface ClientState {
  userId: string;
  uploaded: number;
  downloaded: number;
  lastMs: number;
  seeding: boolean;
}

export class MemoryAccounts implements AccountStore {
  private readonly byPasskey = new Map<string, UserRecord>();
  private readonly byId = new Map<string, UserRecord>();
  private readonly torrents = new Map<string, TorrentRecord>();
  /** Keyed by info hash + peer id; ordered by last announce, the oldest dropped past `maxClients`. */
  private readonly clients = new Map<string, ClientState>();
  private readonly userTorrents = new Map<string, Usage>();

  constructor(private readonly maxClients: number) {}

  /** The announce's user (undefined without a passkey), or why it is refused. Writes nothing. */
  admit(input: AnnounceInput): UserRecord | undefined | AnnounceRefusal {
    let user: UserRecord | undefined;
    if (input.passkey !== undefined) {
      user = this.byPasskey.get(input.passkey);
      if (!user?.enabled) return "unknown-passkey";
    }
    if (input.allowlistOnly && !this.torrents.get(input.infoHash)?.allowed) return "not-allowed";
    return user;
  }

  /**
   * Accounts one announce that the swarm recorded (its peer entry was the requester's to change).
   * `wasSeeder`: the peer was listed as a seeder before this announce.
   */
  record(user: UserRecord, input: AnnounceInput, wasSeeder: boolean): void {
    const clientKey = `${input.infoHash}:${input.peerId}`;
    const previous = this.clients.get(clientKey);
    const uploaded = input.uploaded ?? 0;
    const downloaded = input.downloaded ?? 0;
    const torrent = this.torrentRecord(input.infoHash);
    const usage: Usage = { ...ZERO_USAGE };
    const mine = previous?.userId === user.id ? previous : undefined;
    usage.uploaded = increase(mine?.uploaded, uploaded);
    usage.downloaded = increase(mine?.downloaded, downloaded);
    if (mine?.seeding) usage.seedingMs = Math.max(0, Math.min(input.now - mine.lastMs, input.seedCapMs ?? 0));
    if (input.event === "completed" && !wasSeeder) usage.snatches = 1;

    add(torrent, usage);
    // Freeleech: the torrent's own totals count real traffic; the user is not charged for downloads.
    const charged = torrent.freeleech ? { ...usage, downloaded: 0 } : usage;
    add(user, charged);
    const pairKey = `${user.id}\n${input.infoHash}`;
    add(this.userTorrents.get(pairKey) ?? this.userTorrents.set(pairKey, { ...ZERO_USAGE }).get(pairKey)!, charged);

    this.clients.delete(clientKey);
    if (input.event === "stopped") return;
    const seeding = input.left === 0 || input.event === "completed";
    this.clients.set(clientKey, { userId: user.id, uploaded, downloaded, lastMs: input.now, seeding });
    if (this.clients.size > this.maxClients) this.clients.delete(this.clients.keys().next().value!);
  }

  async passkeyEnabled(passkey: string): Promise<boolean> {
    return this.byPasskey.get(passkey)?.enabled === true;
  }

  async createUser(id: string, passkey: string): Promise<boolean> {
    if (this.byId.has(id) || this.byPasskey.has(passkey)) return false;
    const user: UserRecord = { id, passkey, enabled: true, ...ZERO_USAGE };
    this.byId.set(id, user);
    this.byPasskey.set(passkey, user);
    return true;
  }

  async rotatePasskey(id: string, passkey: string): Promise<boolean> {
    const user = this.byId.get(id);
    if (!user || this.byPasskey.has(passkey)) return false;
    this.byPasskey.delete(user.passkey);
    user.passkey = passkey;
    this.byPasskey.set(passkey, user);
    return true;
  }

  async setUserEnabled(id: string, enabled: boolean): Promise<boolean> {
    const user = this.byId.get(id);
    if (!user) return false;
    user.enabled = enabled;
    return true;
  }

  async user(id: string): Promise<UserRecord | null> {
    const user = this.byId.get(id);
    return user ? { ...user } : null;
  }

  async listUsers(offset: number, limit: number): Promise<Page<UserRecord>> {
    const ids = [...this.byId.keys()].sort();
    return { items: ids.slice(offset, offset + limit).map((id) => ({ ...this.byId.get(id)! })), total: ids.length };
  }

  async userTorrent(id: string, infoHash: string): Promise<Usage | null> {
    if (!this.byId.has(id)) return null;
    return { ...(this.userTorrents.get(`${id}\n${infoHash}`) ?? ZERO_USAGE) };
  }

  async isAllowed(infoHash: string): Promise<boolean> {
    return this.torrents.get(infoHash)?.allowed === true;
  }

  async areAllowed(infoHashes: string[]): Promise<boolean[]> {
    return infoHashes.map((h) => this.torrents.get(h)?.allowed === true);
  }

  async allow(infoHash: string): Promise<void> {
    this.torrentRecord(infoHash).allowed = true;
  }

  async disallow(infoHash: string): Promise<boolean> {
    const torrent = this.torrents.get(infoHash);
    if (!torrent?.allowed) return false;
    torrent.allowed = false;
    return true;
  }

  async setFreeleech(infoHash: string, freeleech: boolean): Promise<void> {
    this.torrentRecord(infoHash).freeleech = freeleech;
  }

  async torrent(infoHash: string): Promise<TorrentRecord> {
    return { ...(this.torrents.get(infoHash) ?? newTorrent(infoHash)) };
  }

  async listTorrents(offset: number, limit: number): Promise<Page<TorrentRecord>> {
    const hashes = [...this.torrents.values()]
      .filter((t) => t.allowed)
      .map((t) => t.infoHash)
      .sort();
    return { items: hashes.slice(offset, offset + limit).map((h) => ({ ...this.torrents.get(h)! })), total: hashes.length };
  }

  private torrentRecord(infoHash: string): TorrentRecord {
    let torrent = this.torrents.get(infoHash);
    if (!torrent) this.torrents.set(infoHash, (torrent = newTorrent(infoHash)));
    return torrent;
  }
}

function newTorrent(infoHash: string): TorrentRecord {
  return { infoHash, allowed: false, freeleech: false, ...ZERO_USAGE };
}

/** What a reported total adds: its increase, or all of it when it went down (the client restarted). */
function increase(last: number | undefined, now: number): number {
  return last !== undefined && now >= last ? now - last : now;
}

function add(into: Usage, usage: Usage): void {
  into.uploaded += usage.uploaded;
  into.downloaded += usage.downloaded;
  into.snatches += usage.snatches;
  into.seedingMs += usage.seedingMs;
}
