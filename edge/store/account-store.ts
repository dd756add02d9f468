// Private-tracker state a store keeps besides swarms: users (reached by their passkey), the info-hash
// allowlist with a freeleech flag per torrent, and byte/snatch/seeding-time accounting. The announce
// itself checks the passkey and the allowlist and does the accounting (SwarmStore.announce, one
// store call); what is here is for the admin API and for scrape.

/** 32 lowercase hex digits (16 random bytes): a user's secret, part of their announce URL. */
export const PASSKEY_PATTERN = /^[0-9a-f]{32}$/;
/** User ids are chosen by the operator: short, URL- and key-safe. */
export const USER_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** Byte, snatch and seeding-time totals, as kept per user, per torrent and per (user, torrent). */
export interface Usage {
  /** Bytes, summed from the increases of the totals clients report (a reset counts from zero). */
  uploaded: number;
  downloaded: number;
  /** Completed downloads (`event=completed` from a leecher). */
  snatches: number;
  /** Milliseconds seeding, each gap between two announces capped at the announce interval plus grace. */
  seedingMs: number;
}

export interface UserRecord extends Usage {
  id: string;
  passkey: string;
  enabled: boolean;
}

export interface TorrentRecord extends Usage {
  infoHash: string;
  allowed: boolean;
  /** Downloaded bytes are not counted against users. */
  freeleech: boolean;
}

export interface Page<T> {
  items: T[];
  /** How many there are in all, so a client knows when to stop. */
  total: number;
}

export const ZERO_USAGE: Usage = { uploaded: 0, downloaded: 0, snatches: 0, seedingMs: 0 };

export interface AccountStore {
  /** Whether the passkey names an enabled user (scrape; announce checks inside its own call). */
  passkeyEnabled(passkey: string): Promise<boolean>;
  /** Creates a user with this passkey; false when the id is taken. */
  createUser(id: string, passkey: string): Promise<boolean>;
  /** Replaces the user's passkey (the old one stops working at once); false when there is no such user. */
  rotatePasskey(id: string, passkey: string): Promise<boolean>;
  /** false when there is no such user. */
  setUserEnabled(id: string, enabled: boolean): Promise<boolean>;
  user(id: string): Promise<UserRecord | null>;
  /** Ordered by id. */
  listUsers(offset: number, limit: number): Promise<Page<UserRecord>>;
  /** One user's usage on one torrent. */
  userTorrent(id: string, infoHash: string): Promise<Usage | null>;

  /** Private mode: whether this info hash is on the allowlist. */
  isAllowed(infoHash: string): Promise<boolean>;
  /** isAllowed for several, in order, in one store call (a private scrape). */
  areAllowed(infoHashes: string[]): Promise<boolean[]>;
  allow(infoHash: string): Promise<void>;
  /** false when it was not on the allowlist. */
  disallow(infoHash: string): Promise<boolean>;
  setFreeleech(infoHash: string, freeleech: boolean): Promise<void>;
  /** The torrent's flags and usage; zeros for one never seen. */
  torrent(infoHash: string): Promise<TorrentRecord>;
  /** The allowlist with each torrent's usage, ordered by info hash. */
  listTorrents(offset: number, limit: number): Promise<Page<TorrentRecord>>;
}
