// Conformance cases of whose a swarm entry is: it belongs to the address that made it (or to its key), and
// it expires after the peer TTL. Part of runConformance.
import { describe, expect, test } from "bun:test";
import type { PeerParams, TrackerUnderTest } from "./conformance.ts";
import { PEER_TTL_MS } from "./conformance-env.ts";
import { announce, compactPeers, num, randomId } from "./http.ts";

/** Everyone a fresh leecher of the swarm is offered, as sorted "ip:port"; the observer leaves again (stopped). */
function observer(tracker: () => TrackerUnderTest, peer: PeerParams) {
  return async (hash: Uint8Array) => {
    const observer = peer(hash, 7999, 100, { numwant: 20 });
    const { dict } = await announce(tracker().baseUrl, observer);
    await announce(tracker().baseUrl, { ...observer, event: "stopped" });
    const { v4, v6 } = compactPeers(dict);
    return [...v4, ...v6].map((p) => `${p.ip}:${p.port}`).sort();
  };
}

export function identityCases(tracker: () => TrackerUnderTest, peer: PeerParams): void {
  const observe = observer(tracker, peer);
  describe("peer identity: an entry belongs to the address that made it (or to its key)", () => {
    test("a stopped with someone else's peer id from another address removes nothing", async () => {
      const hash = randomId();
      const victim = peer(hash, 7911, 100);
      await announce(tracker().baseUrl, victim);
      // From ::1, and from the victim's own IP on another port: neither is the victim's address.
      const fromV6 = await announce(tracker().baseUrl6, { ...victim, port: 7912, event: "stopped" });
      expect(fromV6.dict["failure reason"]).toBeUndefined();
      await announce(tracker().baseUrl, { ...victim, port: 7913, event: "stopped" });
      expect(await observe(hash)).toEqual(["127.0.0.1:7911"]);
    });

    test("a re-announce with someone else's peer id from another address neither moves it nor is listed, and is answered as usual", async () => {
      const hash = randomId();
      const victim = peer(hash, 7921, 100);
      const other = peer(hash, 7922, 0);
      await announce(tracker().baseUrl, victim);
      await announce(tracker().baseUrl, other);
      const hijack = await announce(tracker().baseUrl6, { ...victim, port: 7923, left: 0 });
      // Answered like any announce (a client whose address changed still gets peers), minus the entry under its id.
      expect(compactPeers(hijack.dict).v4).toEqual([]);
      expect(compactPeers((await announce(tracker().baseUrl6, { ...victim, port: 7923 })).dict).v4).toEqual([{ ip: "127.0.0.1", port: 7922 }]);
      await announce(tracker().baseUrl, { ...victim, port: 7924 });
      expect(await observe(hash)).toEqual(["127.0.0.1:7921", "127.0.0.1:7922"]);
      const { dict } = await announce(tracker().baseUrl, { ...other, numwant: 0 });
      // Still one leecher (the victim) and one seeder: the hijacker's seeding announce was not recorded.
      expect([num(dict.complete), num(dict.incomplete)]).toEqual([1, 1]);
    });

    test("two peers behind one address with different peer ids are both listed", async () => {
      const hash = randomId();
      await announce(tracker().baseUrl, peer(hash, 7931, 100));
      await announce(tracker().baseUrl, peer(hash, 7931, 100));
      expect(await observe(hash)).toEqual(["127.0.0.1:7931", "127.0.0.1:7931"]);
    });

    test("the peer's own key moves its entry to a new address; a wrong or missing key does not", async () => {
      const hash = randomId();
      const mover = peer(hash, 7941, 100, { key: "a1b2c3d4" });
      await announce(tracker().baseUrl, mover);
      await announce(tracker().baseUrl6, { ...mover, port: 7942, key: "ffffffff" });
      await announce(tracker().baseUrl6, { ...mover, port: 7942, key: undefined });
      expect(await observe(hash)).toEqual(["127.0.0.1:7941"]);
      await announce(tracker().baseUrl6, { ...mover, port: 7942 });
      expect(await observe(hash)).toEqual(["::1:7942"]);
      // The old address no longer owns it; the key still does, also to remove it.
      await announce(tracker().baseUrl, { ...mover, key: undefined, event: "stopped" });
      expect(await observe(hash)).toEqual(["::1:7942"]);
      await announce(tracker().baseUrl, { ...mover, event: "stopped" });
      expect(await observe(hash)).toEqual([]);
    });

    test("the key is never sent to anyone", async () => {
      const hash = randomId();
      const secret = "k3y-0f-7951-zz";
      await announce(tracker().baseUrl, peer(hash, 7951, 100, { key: secret }));
      for (const compact of [0, 1] as const) {
        const { body } = await announce(tracker().baseUrl6, peer(hash, 7952, 100, { compact }));
        expect(new TextDecoder("latin1").decode(body)).not.toContain(secret);
      }
    });
  });
}

export function expiryCases(tracker: () => TrackerUnderTest, peer: PeerParams): void {
  const observe = observer(tracker, peer);
  describe("expiry", () => {
    test("a peer that stops announcing is dropped after the peer TTL", async () => {
      const hash = randomId();
      const quiet = peer(hash, 8301, 100);
      const active = peer(hash, 8302, 100);
      await announce(tracker().baseUrl, quiet);
      expect(compactPeers((await announce(tracker().baseUrl, active)).dict).v4).toEqual([{ ip: "127.0.0.1", port: 8301 }]);
      await Bun.sleep(PEER_TTL_MS + 1500);
      const later = await announce(tracker().baseUrl, active);
      expect(compactPeers(later.dict).v4).toEqual([]);
      expect(num(later.dict.incomplete)).toBe(1);
    }, 30_000);

    test("a peer whose address changed without a key is listed at its new address once the old entry expired", async () => {
      const hash = randomId();
      const moved = peer(hash, 8311, 100);
      await announce(tracker().baseUrl, moved);
      await announce(tracker().baseUrl6, { ...moved, port: 8312 });
      expect(await observe(hash)).toEqual(["127.0.0.1:8311"]);
      await Bun.sleep(PEER_TTL_MS + 1500);
      await announce(tracker().baseUrl6, { ...moved, port: 8312 });
      expect(await observe(hash)).toEqual(["::1:8312"]);
    }, 30_000);
  });
}
