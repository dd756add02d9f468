// Users, the allowlist and accounting in Redis, for the admin API and scrape (the announce script
// reads and updates the same keys). Keys, under the store's prefix:
//   pk:<passkey>      hash: id, enabled ("1"/"0"), uploaded, downloaded, snatches, seeding_ms
//   passkeys          hash: user id -> passkey (the way from an id to its record)
//   users             sorted set of user ids, all scored 0, so ZRANGE pages them in id order
//   torrents          sorted set of allowlisted info hashes, the same way
//   {<info hash>}:t   hash: allowed, freeleech, uploaded, downloaded, snatches, seeding_ms
//   {<info hash>}:u   hash: "<user id>:<counter>" per user on that torrent
// Changes that touch several keys run as one small script, so a rotation racing a disable cannot
// leave a user half-updated. None of this is on the announce path.
import { ZERO_USAGE, type AccountStore, type Page, type TorrentRecord, type Usage, type UserRecord } from "./account-store.ts";
import type { RedisClient } from "./upstash-client.ts";
import { toCount } from "./upstash-reply.ts";

export interface AccountKeys {
  swarm(infoHash: string): string[];
  torrent(infoHash: string): string;
  usage(infoHash: string): string;
  user(passkey: string): string;
  users(): string;
  passkeys(): string;
  torrents(): string;
}

type Guard = <T>(what: string, call: () => Promise<T>) => Promise<T>;

// KEYS: users, passkeys, user record. ARGV: id, passkey.
const CREATE_USER = `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('ZADD', KEYS[1], 0, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], 'id', ARGV[1], 'enabled', '1')
return 1`;

// KEYS: passkeys, old record, new record. ARGV: id, old passkey, new passkey. The record keeps its
// counters (RENAME); 0 when the user is gone or was rotated meanwhile.
const ROTATE = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('RENAME', KEYS[2], KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`;

// KEYS: passkeys, record. ARGV: id, passkey, "1"/"0".
const SET_ENABLED = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], 'enabled', ARGV[3])
return 1`;

// KEYS: torrent record, torrents. ARGV: info hash, "1"/"0". Returns whether membership changed.
const SET_ALLOWED = `
redis.call('HSET', KEYS[1], 'allowed', ARGV[2])
if ARGV[2] == '1' then return redis.call('ZADD', KEYS[2], 0, ARGV[1]) end
return redis.call('ZREM', KEYS[2], ARGV[1])`;

export class UpstashAccounts implements AccountStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: AccountKeys,
    private readonly guard: Guard,
  ) {}

  async passkeyEnabled(passkey: string): Promise<boolean> {
    const enabled = await this.guard("passkey check", () => this.redis.hget(this.keys.user(passkey), "enabled"));
    return String(enabled) === "1";
  }

  async createUser(id: string, passkey: string): Promise<boolean> {
    const k = this.keys;
    return (await this.run("create user", CREATE_USER, [k.users(), k.passkeys(), k.user(passkey)], [id, passkey])) === 1;
  }

  async rotatePasskey(id: string, passkey: string): Promise<boolean> {
    const old = await this.passkeyOf(id);
    if (old === null) return false;
    const k = this.keys;
    return (await this.run("rotate passkey", ROTATE, [k.passkeys(), k.user(old), k.user(passkey)], [id, old, passkey])) === 1;
  }

  async setUserEnabled(id: string, enabled: boolean): Promise<boolean> {
    const passkey = await this.passkeyOf(id);
    if (passkey === null) return false;
    const k = this.keys;
    return (await this.run("disable user", SET_ENABLED, [k.passkeys(), k.user(passkey)], [id, passkey, enabled ? "1" : "0"])) === 1;
  }

  async user(id: string): Promise<UserRecord | null> {
    const passkey = await this.passkeyOf(id);
    if (passkey === null) return null;
    const record = await this.guard("user", () => this.redis.hgetall(this.keys.user(passkey)));
    return record ? toUser(id, passkey, record) : null;
  }

  async listUsers(offset: number, limit: number): Promise<Page<UserRecord>> {
    const [total, ids] = await this.page("users", this.keys.users(), offset, limit);
    if (ids.length === 0) return { items: [], total };
    const passkeys = await this.guard("users", () => this.redis.hmget(this.keys.passkeys(), ...ids));
    const records = await this.guard("users", () => {
      const pipe = this.redis.pipeline();
      for (const id of ids) pipe.hgetall(this.keys.user(String(passkeys?.[id] ?? "")));
      return pipe.exec();
    });
    const items: UserRecord[] = [];
    ids.forEach((id, i) => {
      const record = records[i] as Record<string, unknown> | null;
      if (passkeys?.[id] != null && record) items.push(toUser(id, String(passkeys[id]), record));
    });
    return { items, total };
  }

  async userTorrent(id: string, infoHash: string): Promise<Usage | null> {
    if ((await this.passkeyOf(id)) === null) return null;
    const fields = USAGE_FIELDS.map(([field]) => `${id}:${field}`);
    const values = await this.guard("user torrent", () => this.redis.hmget(this.keys.usage(infoHash), ...fields));
    const usage = { ...ZERO_USAGE };
    USAGE_FIELDS.forEach(([field, name]) => (usage[name] = toCount(values?.[`${id}:${field}`])));
    return usage;
  }

  async isAllowed(infoHash: string): Promise<boolean> {
    const allowed = await this.guard("allowlist", () => this.redis.hget(this.keys.torrent(infoHash), "allowed"));
    return String(allowed) === "1";
  }

  async areAllowed(infoHashes: string[]): Promise<boolean[]> {
    if (infoHashes.length === 0) return [];
    const replies = await this.guard("allowlist", () => {
      const pipe = this.redis.pipeline();
      for (const hash of infoHashes) pipe.hget(this.keys.torrent(hash), "allowed");
      return pipe.exec();
    });
    return infoHashes.map((_, i) => String(replies[i]) === "1");
  }

  async allow(infoHash: string): Promise<void> {
    await this.run("allowlist", SET_ALLOWED, [this.keys.torrent(infoHash), this.keys.torrents()], [infoHash, "1"]);
  }

  async disallow(infoHash: string): Promise<boolean> {
    return (await this.run("allowlist", SET_ALLOWED, [this.keys.torrent(infoHash), this.keys.torrents()], [infoHash, "0"])) === 1;
  }

  async setFreeleech(infoHash: string, freeleech: boolean): Promise<void> {
    await this.guard("freeleech", () =>
      this.redis
        .pipeline()
        .hset(this.keys.torrent(infoHash), { freeleech: freeleech ? "1" : "0" })
        .exec(),
    );
  }

  async torrent(infoHash: string): Promise<TorrentRecord> {
    const record = await this.guard("torrent", () => this.redis.hgetall(this.keys.torrent(infoHash)));
    return toTorrent(infoHash, record ?? {});
  }

  async listTorrents(offset: number, limit: number): Promise<Page<TorrentRecord>> {
    const [total, hashes] = await this.page("torrents", this.keys.torrents(), offset, limit);
    if (hashes.length === 0) return { items: [], total };
    const records = await this.guard("torrents", () => {
      const pipe = this.redis.pipeline();
      for (const hash of hashes) pipe.hgetall(this.keys.torrent(hash));
      return pipe.exec();
    });
    return { items: hashes.map((hash, i) => toTorrent(hash, (records[i] as Record<string, unknown> | null) ?? {})), total };
  }

  private async passkeyOf(id: string): Promise<string | null> {
    const passkey = await this.guard("user", () => this.redis.hget(this.keys.passkeys(), id));
    return passkey == null ? null : String(passkey);
  }

  /** Members [offset, offset + limit) of a sorted set in order, with its size: one pipeline. */
  private async page(what: string, key: string, offset: number, limit: number): Promise<[number, string[]]> {
    const [total, members] = await this.guard(what, () =>
      this.redis
        .pipeline()
        .zcard(key)
        .zrange(key, offset, offset + limit - 1)
        .exec(),
    );
    return [toCount(total), (members as unknown[]).map(String)];
  }

  private run(what: string, script: string, keys: string[], args: string[]): Promise<unknown> {
    return this.guard(what, () => this.redis.eval(script, keys, args));
  }
}

const USAGE_FIELDS: Array<[field: string, name: keyof Usage]> = [
  ["uploaded", "uploaded"],
  ["downloaded", "downloaded"],
  ["snatches", "snatches"],
  ["seeding_ms", "seedingMs"],
];

function usageOf(record: Record<string, unknown>): Usage {
  const usage = { ...ZERO_USAGE };
  for (const [field, name] of USAGE_FIELDS) usage[name] = toCount(record[field]);
  return usage;
}

function toUser(id: string, passkey: string, record: Record<string, unknown>): UserRecord {
  return { id, passkey, enabled: String(record.enabled) === "1", ...usageOf(record) };
}

function toTorrent(infoHash: string, record: Record<string, unknown>): TorrentRecord {
  return { infoHash, allowed: String(record.allowed) === "1", freeleech: String(record.freeleech) === "1", ...usageOf(record) };
}
