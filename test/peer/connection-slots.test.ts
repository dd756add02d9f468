// The connection-slot policy on its own: who is a member, who waits provisionally above the cap, who is
// replaced and who is let go. Peers are ids; whether each is useful is a set the test changes.
import { describe, expect, test } from "bun:test";
import { ConnectionSlots, handshakeToDrop, slotLimits, type SlotLimits } from "../../peer/swarm/connection-slots.ts";

const limits: SlotLimits = { capacity: 2, provisional: 2, handshakes: 3, graceMs: 10_000, settleMs: 5_000 };

function slots(custom: Partial<SlotLimits> = {}) {
  const useful = new Set<number>();
  return { useful, slots: new ConnectionSlots({ ...limits, ...custom }, (id) => useful.has(id)) };
}

describe("ConnectionSlots", () => {
  test("peers are members while there is room, provisional above it", () => {
    const { slots: s } = slots();
    expect(s.admit(1, 0)).toEqual({ state: "member" });
    expect(s.admit(2, 0)).toEqual({ state: "member" });
    expect(s.admit(3, 0)).toEqual({ state: "provisional", displaced: null });
    expect([s.members, s.provisionals]).toEqual([2, 1]);
    expect(s.stateOf(3)).toBe("provisional");
  });

  test("a useful newcomer replaces the settled member with nothing to trade that was silent longest", () => {
    const { slots: s, useful } = slots({ capacity: 3 });
    for (const id of [1, 2, 3]) s.admit(id, 0);
    useful.add(2); // interested: never the one to go
    s.active(1, 3_000);
    s.active(3, 1_000); // silent since 1 s: longer than peer 1
    s.admit(4, 6_000);
    expect(s.review(6_000)).toEqual([]); // not useful yet: it waits
    useful.add(4);
    expect(s.review(6_500)).toEqual([{ kind: "replaced", promoted: 4, evicted: 3 }]);
    expect(s.stateOf(4)).toBe("member");
    expect(s.stateOf(3)).toBeUndefined();
    expect([s.members, s.provisionals]).toEqual([3, 0]);
  });

  test("members that just came in are not replaced until they have settled", () => {
    const { slots: s, useful } = slots();
    s.admit(1, 0);
    s.admit(2, 0);
    s.admit(3, 1_000);
    useful.add(3);
    expect(s.review(4_999)).toEqual([]);
    expect(s.review(5_000)).toEqual([{ kind: "replaced", promoted: 3, evicted: 1 }]);
  });

  test("useful members are never replaced: the newcomer is let go when its grace ends", () => {
    const { slots: s, useful } = slots();
    s.admit(1, 0);
    s.admit(2, 0);
    useful.add(1).add(2);
    s.admit(3, 20_000);
    useful.add(3);
    expect(s.review(25_000)).toEqual([]);
    expect(s.review(30_000)).toEqual([{ kind: "expired", id: 3 }]);
    expect([s.members, s.provisionals]).toEqual([2, 0]);
  });

  test("a newcomer that shows nothing is let go when its grace ends, even when members are idle", () => {
    const { slots: s } = slots();
    s.admit(1, 0);
    s.admit(2, 0);
    s.admit(3, 10_000);
    expect(s.review(19_999)).toEqual([]);
    expect(s.review(20_000)).toEqual([{ kind: "expired", id: 3 }]);
  });

  test("a member leaving frees its slot for a provisional peer, a useful one first", () => {
    const { slots: s, useful } = slots();
    s.admit(1, 0);
    s.admit(2, 0);
    s.admit(3, 1_000);
    s.admit(4, 2_000);
    useful.add(4);
    expect(s.release(1, 3_000)).toEqual([4]);
    expect(s.stateOf(4)).toBe("member");
    expect(s.release(2, 3_000)).toEqual([3]);
    expect([s.members, s.provisionals]).toEqual([2, 0]);
    expect(s.release(99, 3_000)).toEqual([]); // never admitted (closed while handshaking)
  });

  test("with the provisional places full, a newcomer displaces the oldest one that showed nothing", () => {
    const { slots: s, useful } = slots();
    s.admit(1, 0);
    s.admit(2, 0);
    s.admit(3, 1_000);
    s.admit(4, 2_000);
    useful.add(3); // it said it is interested: it keeps its place though older
    expect(s.admit(5, 3_000)).toEqual({ state: "provisional", displaced: 4 });
    expect(s.stateOf(4)).toBeUndefined();
    expect(s.stateOf(3)).toBe("provisional");
    expect(s.admit(6, 4_000)).toEqual({ state: "provisional", displaced: 5 });
    expect([s.members, s.provisionals]).toEqual([2, 2]);
  });

  test("provisional peers that proved useful keep their place: the newcomer is refused", () => {
    const { slots: s, useful } = slots();
    for (const id of [1, 2]) s.admit(id, 0);
    useful.add(1).add(2).add(3).add(4);
    s.admit(3, 1_000);
    s.admit(4, 1_000);
    expect(s.admit(5, 2_000)).toEqual({ state: "refused" });
    expect(s.stateOf(5)).toBeUndefined();
  });

  test("limits: handshakes have a larger cap of their own than the peer slots", () => {
    const l = slotLimits(4);
    expect(l.handshakes).toBeGreaterThan(l.capacity);
    expect(l.provisional).toBeGreaterThanOrEqual(1);
    expect(l.settleMs).toBeLessThan(l.graceMs);
  });
});

describe("handshakeToDrop", () => {
  const conn = (connectedAt: number, outgoing = false) => ({ connectedAt, outgoing });

  test("drops the oldest incoming handshake once the cap is reached, never one of our dials", () => {
    const a = conn(5);
    const b = conn(2);
    const ours = conn(1, true);
    expect(handshakeToDrop([a, ours], 3)).toBeNull();
    expect(handshakeToDrop([a, b, ours], 3)).toBeNull();
    expect(handshakeToDrop([a, b, ours, conn(9)], 3)).toBe(b);
  });
});
