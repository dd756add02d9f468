// Private-tracker behaviours every SwarmStore must show (users, passkeys, allowlist, accounting), run
// against the embedded store and against the Upstash store over a real redis-server. Each test uses
// its own users and info hashes, so tests do not depend on each other.
import { describe, expect, test } from "bun:test";
import type { AnnounceInput, SwarmStore } from "../../edge/store/swarm-store.ts";

export interface StoreUnderTest {
  store: SwarmStore;
  /** Something that changes whenever the store writes anything (Redis: its dirty counter). */
  writes(): Promise<unknown>;
}

const T0 = 1_700_000_000_000;
const TTL = 60_000;
const CAP = 90_000;
let counter = 0;
const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");
const fresh = () => ++counter + Math.floor(Math.random() * 0xffffff) * 1000;
export const freshHash = () => hex(fresh(), 40);
const freshPasskey = () => hex(fresh(), 32);

export function runAccountConformance(name: string, open: () => StoreUnderTest): void {
  describe(`private tracker store: ${name}`, () => {
    const newUser = async (s: SwarmStore) => {
      const id = `user-${fresh()}`;
      const passkey = freshPasskey();
      expect(await s.accounts.createUser(id, passkey)).toBe(true);
      return { id, passkey };
    };
    const announce = (s: SwarmStore, over: Partial<AnnounceInput> & { infoHash: string }) =>
      s.announce({ peerId: hex(1, 40), ip: "10.0.0.1", port: 6881, left: 1000, event: "", numwant: 50, now: T0, peerTtlMs: TTL, seedCapMs: CAP, ...over });

    test("an unknown or disabled passkey is refused and writes nothing; an enabled one is served", async () => {
      const { store, writes } = open();
      const hash = freshHash();
      const { id, passkey } = await newUser(store);
      const before = await writes();
      const unknown = await announce(store, { infoHash: hash, passkey: freshPasskey(), event: "started" });
      expect(unknown.refused).toBe("unknown-passkey");
      expect(await writes()).toEqual(before);
      expect(await store.accounts.setUserEnabled(id, false)).toBe(true);
      const disabledAt = await writes();
      // The measure is live: disabling a user is a write.
      expect(disabledAt).not.toEqual(before);
      expect((await announce(store, { infoHash: hash, passkey })).refused).toBe("unknown-passkey");
      expect(await writes()).toEqual(disabledAt);
      expect((await store.scrape([hash], T0))[0]).toEqual({ complete: 0, incomplete: 0, downloaded: 0 });
      await store.accounts.setUserEnabled(id, true);
      const served = await announce(store, { infoHash: hash, passkey });
      expect([served.refused, served.incomplete]).toEqual([undefined, 1]);
      expect(await store.accounts.passkeyEnabled(passkey)).toBe(true);
    });

    test("allowlistOnly refuses a torrent off the allowlist, writing nothing; removal takes effect at once", async () => {
      const { store, writes } = open();
      const hash = freshHash();
      const { passkey } = await newUser(store);
      const before = await writes();
      expect((await announce(store, { infoHash: hash, passkey, allowlistOnly: true })).refused).toBe("not-allowed");
      expect(await writes()).toEqual(before);
      await store.accounts.allow(hash);
      expect(await store.accounts.isAllowed(hash)).toBe(true);
      expect((await announce(store, { infoHash: hash, passkey, allowlistOnly: true })).refused).toBeUndefined();
      expect(await store.accounts.disallow(hash)).toBe(true);
      expect(await store.accounts.disallow(hash)).toBe(false);
      expect((await announce(store, { infoHash: hash, passkey, allowlistOnly: true })).refused).toBe("not-allowed");
    });

    test("bytes are the increases of the reported totals; completed is one snatch; per user, per torrent and per pair", async () => {
      const { store } = open();
      const hash = freshHash();
      const { id, passkey } = await newUser(store);
      await announce(store, { infoHash: hash, passkey, event: "started", uploaded: 0, downloaded: 0 });
      await announce(store, { infoHash: hash, passkey, uploaded: 100, downloaded: 500, now: T0 + 1000 });
      await announce(store, { infoHash: hash, passkey, uploaded: 300, downloaded: 1000, left: 0, event: "completed", now: T0 + 2000 });
      // A second completed (a client repeating itself) is no second snatch.
      await announce(store, { infoHash: hash, passkey, uploaded: 300, downloaded: 1000, left: 0, event: "completed", now: T0 + 2000 });
      const expected = { uploaded: 300, downloaded: 1000, snatches: 1, seedingMs: 0 };
      expect(await store.accounts.user(id)).toEqual({ id, passkey, enabled: true, ...expected });
      expect(await store.accounts.userTorrent(id, hash)).toEqual(expected);
      expect(await store.accounts.torrent(hash)).toEqual({ infoHash: hash, allowed: false, freeleech: false, ...expected });
      expect(await store.accounts.userTorrent("no-such-user", hash)).toBeNull();
    });

    test("a client restart (smaller totals) counts the new totals from zero, never a negative delta", async () => {
      const { store } = open();
      const hash = freshHash();
      const { id, passkey } = await newUser(store);
      await announce(store, { infoHash: hash, passkey, uploaded: 1000, downloaded: 4000 });
      await announce(store, { infoHash: hash, passkey, uploaded: 50, downloaded: 10, event: "started" });
      await announce(store, { infoHash: hash, passkey, uploaded: 70, downloaded: 10 });
      const user = (await store.accounts.user(id))!;
      expect([user.uploaded, user.downloaded]).toEqual([1070, 4010]);
    });

    test("stopped counts its last increase and forgets the client: its next session counts from zero", async () => {
      const { store } = open();
      const hash = freshHash();
      const { id, passkey } = await newUser(store);
      await announce(store, { infoHash: hash, passkey, uploaded: 10, downloaded: 20 });
      await announce(store, { infoHash: hash, passkey, uploaded: 15, downloaded: 25, event: "stopped" });
      await announce(store, { infoHash: hash, passkey, uploaded: 15, downloaded: 25, event: "started" });
      const user = (await store.accounts.user(id))!;
      expect([user.uploaded, user.downloaded]).toEqual([30, 50]);
    });

    test("seeding time is the time between seeding announces, each gap capped", async () => {
      const { store } = open();
      const hash = freshHash();
      const { id, passkey } = await newUser(store);
      await announce(store, { infoHash: hash, passkey, left: 0 });
      await announce(store, { infoHash: hash, passkey, left: 0, now: T0 + 30_000 });
      await announce(store, { infoHash: hash, passkey, left: 0, now: T0 + 30_000 + 10 * CAP, peerTtlMs: 100 * CAP });
      // A leecher's time counts nothing.
      await announce(store, { infoHash: hash, passkey, peerId: hex(2, 40), port: 7000, now: T0 });
      await announce(store, { infoHash: hash, passkey, peerId: hex(2, 40), port: 7000, now: T0 + 30_000 });
      expect((await store.accounts.userTorrent(id, hash))!.seedingMs).toBe(30_000 + CAP);
      expect((await store.accounts.torrent(hash)).seedingMs).toBe(30_000 + CAP);
    });

    test("freeleech: the user is not charged for downloads; the torrent still counts them", async () => {
      const { store } = open();
      const hash = freshHash();
      const { id, passkey } = await newUser(store);
      await store.accounts.setFreeleech(hash, true);
      await announce(store, { infoHash: hash, passkey, uploaded: 7, downloaded: 900 });
      const user = (await store.accounts.user(id))!;
      expect([user.uploaded, user.downloaded]).toEqual([7, 0]);
      const torrent = await store.accounts.torrent(hash);
      expect([torrent.freeleech, torrent.uploaded, torrent.downloaded]).toEqual([true, 7, 900]);
    });

    test("an announce with someone's peer id from another address accounts nothing", async () => {
      const { store } = open();
      const hash = freshHash();
      const victim = await newUser(store);
      const thief = await newUser(store);
      await announce(store, { infoHash: hash, passkey: victim.passkey, uploaded: 1 });
      await announce(store, { infoHash: hash, passkey: thief.passkey, ip: "10.9.9.9", uploaded: 5000, event: "completed", left: 0 });
      expect((await store.accounts.user(thief.id))!.uploaded).toBe(0);
      expect((await store.accounts.user(thief.id))!.snatches).toBe(0);
    });

    test("rotating a passkey keeps the user's counters; the old passkey stops working at once", async () => {
      const { store } = open();
      const hash = freshHash();
      const { id, passkey } = await newUser(store);
      await announce(store, { infoHash: hash, passkey, uploaded: 42 });
      const next = freshPasskey();
      expect(await store.accounts.rotatePasskey(id, next)).toBe(true);
      expect((await announce(store, { infoHash: hash, passkey })).refused).toBe("unknown-passkey");
      expect(await store.accounts.passkeyEnabled(passkey)).toBe(false);
      await announce(store, { infoHash: hash, passkey: next, uploaded: 50 });
      expect(await store.accounts.user(id)).toMatchObject({ passkey: next, uploaded: 50 });
      expect(await store.accounts.rotatePasskey("no-such-user", freshPasskey())).toBe(false);
      expect(await store.accounts.createUser(id, freshPasskey())).toBe(false);
    });

    test("users and allowlisted torrents list in order, a page at a time, with the total", async () => {
      const { store } = open();
      const users = [];
      for (let i = 0; i < 5; i++) users.push(await newUser(store));
      const all = await store.accounts.listUsers(0, 10_000);
      const ids = all.items.map((u) => u.id);
      expect(ids).toEqual([...ids].sort());
      for (const u of users) expect(ids).toContain(u.id);
      const page = await store.accounts.listUsers(1, 2);
      expect(page.items.map((u) => u.id)).toEqual(ids.slice(1, 3));
      expect(page.total).toBe(all.total);
      const hashes = [freshHash(), freshHash(), freshHash()];
      for (const h of hashes) await store.accounts.allow(h);
      const torrents = await store.accounts.listTorrents(0, 10_000);
      for (const h of hashes) expect(torrents.items.map((t) => t.infoHash)).toContain(h);
      expect((await store.accounts.listTorrents(torrents.total, 10)).items).toEqual([]);
    });
  });
}
