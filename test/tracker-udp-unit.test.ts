// The UDP tracker in process, where the clock and the configuration can be set: connection id
// lifetime, private mode, the `ip` field, address families.
import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../edge/config.ts";
import { trackerCore } from "../edge/announce-core.ts";
import { createLogger } from "../edge/log.ts";
import { MemorySwarmStore } from "../edge/store/memory.ts";
import { ConnectionIds, WINDOW_MS } from "../edge/udp/connection-id.ts";
import { UdpTracker } from "../edge/udp/udp-tracker.ts";
import { toHex } from "../shared/bytes.ts";
import { decodeResponse, encodeAnnounceRequest, encodeConnectRequest, type AnnounceRequest, type UdpResponse } from "../shared/udp-tracker/index.ts";

function tracker(env: Record<string, string> = {}) {
  const clock = { now: 10 * WINDOW_MS + 1 };
  const store = new MemorySwarmStore();
  const udp = new UdpTracker({
    core: trackerCore(loadConfig(env), store, createLogger("error")),
    connectionIds: ConnectionIds.withRandomKey(),
    now: () => clock.now,
  });
  const ask = async (packet: Uint8Array, ip = "127.0.0.1", port = 5000): Promise<UdpResponse | null> => {
    const reply = await udp.handle(packet, ip, port);
    return reply && decodeResponse(reply, ip.includes(":") && !ip.startsWith("::ffff:") ? 6 : 4);
  };
  const connect = async (ip = "127.0.0.1", port = 5000) => {
    const reply = await ask(encodeConnectRequest(1), ip, port);
    if (reply?.action !== "connect") throw new Error("no connect reply");
    return reply.connectionId;
  };
  return { clock, store, udp, ask, connect };
}

const announce = (connectionId: bigint, fields: Partial<AnnounceRequest> = {}) =>
  encodeAnnounceRequest({
    connectionId,
    transactionId: 2,
    infoHash: new Uint8Array(20).fill(1),
    peerId: crypto.getRandomValues(new Uint8Array(20)),
    downloaded: 0,
    left: 5,
    uploaded: 0,
    event: "started",
    ip: 0,
    key: 0,
    numWant: -1,
    port: 6881,
    ...fields,
  });

describe("UDP tracker in process", () => {
  test("a connection id is accepted for at least two minutes after it was issued, and not after four", async () => {
    const t = tracker();
    const id = await t.connect();
    t.clock.now += 2 * 60_000 - 1;
    expect((await t.ask(announce(id)))?.action).toBe("announce");
    t.clock.now += 2 * 60_000;
    expect(await t.ask(announce(id))).toBeNull();
  });

  test("an IPv4-mapped sender is an IPv4 client: it gets 6-byte peers", async () => {
    const t = tracker();
    const id = await t.connect("127.0.0.1", 5000);
    await t.ask(announce(id, { port: 7000 }));
    const reply = await t.ask(announce(await t.connect("::ffff:127.0.0.1", 5000), { port: 7001 }), "::ffff:127.0.0.1");
    expect(reply?.action === "announce" && Array.from(reply.peers)).toEqual([127, 0, 0, 1, 0x1b, 0x58]);
  });

  test("an IPv6 announce gets only the IPv6 peers of the swarm, 18 bytes each", async () => {
    const t = tracker();
    await t.ask(announce(await t.connect("127.0.0.1"), { port: 7000 }));
    await t.ask(announce(await t.connect("::1"), { port: 7001 }), "::1");
    const reply = await t.ask(announce(await t.connect("::1", 5001), { port: 7002 }), "::1", 5001);
    expect(reply?.action === "announce" && [reply.peers.length, reply.leechers]).toEqual([18, 3]);
  });

  test("private mode: UDP carries no passkey, so every announce gets an error packet naming why, allowlisted or not", async () => {
    const t = tracker({ TRACKER_PRIVATE: "true" });
    await t.store.accounts.allow(toHex(new Uint8Array(20).fill(1)));
    const reply = await t.ask(announce(await t.connect()));
    expect(reply).toEqual({ action: "error", transactionId: 2, message: "this private tracker needs your passkey: announce at /<passkey>/announce" });
  });

  test("the ip field is honoured only with TRACKER_TRUST_IP_PARAM", async () => {
    for (const [trust, expected] of [
      ["false", "127.0.0.1"],
      ["true", "10.1.2.3"],
    ] as const) {
      const t = tracker({ TRACKER_TRUST_IP_PARAM: trust });
      await t.ask(announce(await t.connect(), { ip: 0x0a010203, port: 7000 }));
      const reply = await t.ask(announce(await t.connect(), { port: 7001 }));
      expect(reply?.action === "announce" && Array.from(reply.peers.subarray(0, 4)).join(".")).toBe(expected);
    }
  });

  test("port 0 gets an error packet", async () => {
    const t = tracker();
    expect((await t.ask(announce(await t.connect(), { port: 0 })))?.action).toBe("error");
  });
});

test("TRACKER_UDP_PORT and TRACKER_UDP_KEY are checked at start-up", () => {
  expect(loadConfig({}).udpPort).toBe("http-port");
  expect(loadConfig({ TRACKER_UDP_PORT: "0" }).udpPort).toBe(0);
  expect(loadConfig({ TRACKER_UDP_PORT: "6969" }).udpPort).toBe(6969);
  expect(() => loadConfig({ TRACKER_UDP_PORT: "70000" })).toThrow(ConfigError);
  expect(() => loadConfig({ TRACKER_UDP_KEY: "abc" })).toThrow("TRACKER_UDP_KEY must be 32 hex digits");
  expect(loadConfig({ TRACKER_UDP_KEY: "00112233445566778899AABBCCDDEEFF" }).udpKey).toBe("00112233445566778899aabbccddeeff");
});

test("the announce's key field binds a peer to its address as HTTP's key does: only the same key moves it", async () => {
  const t = tracker();
  const peerId = new Uint8Array(20).fill(4);
  const seen = async () => {
    const reply = await t.ask(announce(await t.connect(), { peerId: new Uint8Array(20).fill(5), port: 9000 }));
    return reply?.action === "announce" ? (reply.peers[4]! << 8) | reply.peers[5]! : -1;
  };
  await t.ask(announce(await t.connect(), { peerId, port: 7000, key: 0xabcdef01 }));
  expect(await seen()).toBe(7000);
  await t.ask(announce(await t.connect(), { peerId, port: 7001, key: 0xabcdef01 }));
  expect(await seen()).toBe(7001);
  await t.ask(announce(await t.connect(), { peerId, port: 7002, key: 0 }));
  await t.ask(announce(await t.connect(), { peerId, port: 7003, key: 0x12345678 }));
  expect(await seen()).toBe(7001);
});
