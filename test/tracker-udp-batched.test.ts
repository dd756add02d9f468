// The UDP tracker's batched socket on Bun (edge/adapter/bun-udp*.ts): the message table's layout,
// a burst of datagrams taken by one recvmmsg and every one answered as the tracker answers it,
// stopping frees the port, and Bun's own socket as the fallback. Real sockets on loopback.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { AF_INET, AF_INET6, MessageTable, MMSGHDR_BYTES, MSG_TRUNC } from "../edge/adapter/linux-mmsg.ts";
import { serveUdp } from "../edge/adapter/bun-udp.ts";
import { loadConfig } from "../edge/config.ts";
import { trackerCore } from "../edge/announce-core.ts";
import { createLogger } from "../edge/log.ts";
import { MemorySwarmStore } from "../edge/store/memory.ts";
import { ConnectionIds } from "../edge/udp/connection-id.ts";
import { UdpTracker } from "../edge/udp/udp-tracker.ts";
import { encodeAnnounceRequest, encodeConnectRequest } from "../shared/udp-tracker/index.ts";
import { UdpTrackerClient } from "./tracker/udp-client.ts";
import { makeTempDir, removeDir } from "./support/files.ts";
import { freePort } from "./support/ports.ts";
import { spawnService } from "./support/processes.ts";

const linux = process.platform === "linux";

function newTracker(): UdpTracker {
  return new UdpTracker({ core: trackerCore(loadConfig({}), new MemorySwarmStore(), createLogger("error")), connectionIds: ConnectionIds.withRandomKey() });
}

/** Writes what the kernel would for received message `i`: its length, flags and sender. */
function fakeReceived(t: MessageTable, i: number, o: { length: number; flags?: number; sockaddr: number[] }): void {
  const v = new DataView(t.bytes.buffer);
  v.setUint32(t.headersAt + i * MMSGHDR_BYTES + 56, o.length, true);
  v.setInt32(t.headersAt + i * MMSGHDR_BYTES + 48, o.flags ?? 0, true);
  t.bytes.set(o.sockaddr, t.count * t.slotBytes + i * 32);
}

describe("message table (recvmmsg/sendmmsg layout)", () => {
  test("a received IPv4 sender reads as family, port and address; its data is a view of the slot", () => {
    const t = new MessageTable(4, 64);
    fakeReceived(t, 2, { length: 5, sockaddr: [AF_INET, 0, 0x1a, 0xe1, 127, 0, 0, 9] });
    t.bytes.set([1, 2, 3, 4, 5, 6], 2 * 64);
    expect(t.family(2)).toBe(AF_INET);
    expect(t.port(2)).toBe(6881);
    expect(t.ip4(2)).toBe(0x7f000009);
    expect([...t.data(2)]).toEqual([1, 2, 3, 4, 5]);
    expect(t.address(2)).toEqual({ family: 4, ip4: 0x7f000009, port: 6881 });
  });

  test("a received IPv6 sender keeps its 16 address bytes and scope", () => {
    const t = new MessageTable(2, 64);
    const ip6 = Array.from({ length: 16 }, (_, k) => (k === 15 ? 1 : 0));
    fakeReceived(t, 1, { length: 0, sockaddr: [AF_INET6, 0, 0x1a, 0xe1, 0, 0, 0, 0, ...ip6, 7, 0, 0, 0] });
    expect(t.address(1)).toEqual({ family: 6, ip6: Uint8Array.from(ip6), scope: 7, port: 6881 });
  });

  test("a datagram longer than its slot is seen at its real length (the slot's bytes, then zeros)", () => {
    const t = new MessageTable(1, 16);
    t.bytes.fill(9, 0, 16);
    fakeReceived(t, 0, { length: 40, flags: MSG_TRUNC, sockaddr: [AF_INET, 0, 0, 1, 127, 0, 0, 1] });
    const data = t.data(0);
    expect(data.length).toBe(40);
    expect([...data.subarray(0, 16)].every((b) => b === 9)).toBe(true);
    expect([...data.subarray(16)].every((b) => b === 0)).toBe(true);
  });

  test("an outgoing message gets its payload, its iovec length and a sockaddr_in of 16 bytes", () => {
    const t = new MessageTable(2, 32);
    t.setOutgoing(1, Uint8Array.of(7, 7, 7), { family: 4, ip4: 0x7f000001, port: 6969 });
    const v = new DataView(t.bytes.buffer);
    expect([...t.bytes.subarray(32, 35)]).toEqual([7, 7, 7]);
    const iovs = t.count * t.slotBytes + t.count * 32;
    expect(v.getUint32(iovs + 16 + 8, true)).toBe(3);
    expect(v.getUint32(t.headersAt + MMSGHDR_BYTES + 8, true)).toBe(16);
    expect([...t.bytes.subarray(t.count * t.slotBytes + 32, t.count * t.slotBytes + 40)]).toEqual([AF_INET, 0, 0x1b, 0x39, 127, 0, 0, 1]);
    expect(() => t.setOutgoing(0, new Uint8Array(33), { family: 4, ip4: 1, port: 1 })).toThrow(RangeError);
  });
});

describe.skipIf(!linux)("batched socket (recvmmsg/sendmmsg through bun:ffi)", () => {
  test("a burst sent before the tracker can read is taken in one batch, and every datagram is answered as the tracker answers it", async () => {
    const server = await serveUdp(newTracker(), { hostname: "127.0.0.1", port: 0, log: createLogger("error"), batched: true });
    try {
      expect(server.kind).toBe("recvmmsg");
      const client = await UdpTrackerClient.open("127.0.0.1", server.port);
      const connectionId = await client.connect();
      // All sent from this thread before it yields: the server, on the same thread, reads them afterwards together.
      const infoHash = new Uint8Array(20).fill(3);
      const bad = client.tx();
      client.send(announceOf(connectionId ^ 1n, bad, infoHash, 0));
      const sent: number[] = [];
      for (let i = 0; i < 120; i++) {
        const tx = client.tx();
        sent.push(tx);
        client.send(i % 3 === 0 ? encodeConnectRequest(tx) : announceOf(connectionId, tx, infoHash, i));
      }
      for (const [i, tx] of sent.entries()) {
        const reply = await client.next(tx);
        expect(reply.action).toBe(i % 3 === 0 ? "connect" : "announce");
      }
      // The datagram with a wrong connection id came first: had it been answered, that reply would be in.
      expect(client.rawReply(bad)).toBeUndefined();
      const last = await client.next(sent.at(-1)!);
      expect(last.action === "announce" && last.leechers).toBe(80);
      // 121 datagrams waited together: one recvmmsg took them all.
      expect(server.largestBatch()).toBeGreaterThanOrEqual(121);
      client.close();
    } finally {
      await server.stop();
    }
  });

  test("IPv6: a client on ::1 is answered with 18-byte peers", async () => {
    const server = await serveUdp(newTracker(), { hostname: "::1", port: 0, log: createLogger("error"), batched: true });
    try {
      expect(server.kind).toBe("recvmmsg");
      const a = await UdpTrackerClient.open("::1", server.port);
      const b = await UdpTrackerClient.open("::1", server.port);
      const infoHash = new Uint8Array(20).fill(4);
      await a.announce({ infoHash, port: 7001 });
      const reply = await b.announce({ infoHash, port: 7002 });
      expect(reply.peers.length).toBe(18);
      a.close();
      b.close();
    } finally {
      await server.stop();
    }
  });

  test("stop frees the port: it can be bound again at once", async () => {
    const first = await serveUdp(newTracker(), { hostname: "127.0.0.1", port: 0, log: createLogger("error"), batched: true });
    const port = first.port;
    await first.stop();
    const again = await serveUdp(newTracker(), { hostname: "127.0.0.1", port, log: createLogger("error"), batched: true });
    try {
      expect(again.port).toBe(port);
      const client = await UdpTrackerClient.open("127.0.0.1", port);
      expect(typeof (await client.connect())).toBe("bigint");
      client.close();
    } finally {
      await again.stop();
    }
  });

  test("a process serving only the batched socket stays up and answers, as one on Bun's socket does", async () => {
    const dir = makeTempDir("udp-batched-alive-");
    const script = join(dir, "serve.ts");
    const root = resolve(import.meta.dir, "..");
    writeFileSync(
      script,
      [
        `import { serveUdp } from ${JSON.stringify(join(root, "edge/adapter/bun-udp.ts"))};`,
        `import { loadConfig } from ${JSON.stringify(join(root, "edge/config.ts"))};`,
        `import { trackerCore } from ${JSON.stringify(join(root, "edge/announce-core.ts"))};`,
        `import { createLogger } from ${JSON.stringify(join(root, "edge/log.ts"))};`,
        `import { MemorySwarmStore } from ${JSON.stringify(join(root, "edge/store/memory.ts"))};`,
        `import { UdpTracker } from ${JSON.stringify(join(root, "edge/udp/udp-tracker.ts"))};`,
        `const tracker = new UdpTracker({ core: trackerCore(loadConfig({}), new MemorySwarmStore(), createLogger("error")) });`,
        `const s = await serveUdp(tracker, { hostname: "127.0.0.1", port: Number(process.argv[2]), log: createLogger("error"), batched: true });`,
        `console.log("serving " + s.kind);`,
      ].join("\n"),
    );
    const port = freePort();
    const service = await spawnService({ name: "batched UDP only", cmd: [process.execPath, script, String(port)], ready: { line: /^serving recvmmsg/ } });
    try {
      const client = await UdpTrackerClient.open("127.0.0.1", port);
      expect(typeof (await client.connect())).toBe("bigint");
      client.close();
    } finally {
      await service.stop();
      removeDir(dir);
    }
  }, 60_000);

  test("a port in use is an error, not a silent fallback to another socket", async () => {
    const taken = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    try {
      await expect(serveUdp(newTracker(), { hostname: "127.0.0.1", port: taken.port, log: createLogger("error"), batched: true })).rejects.toThrow(
        /address in use/,
      );
    } finally {
      taken.close();
    }
  });
});

describe("fallback: Bun.udpSocket", () => {
  test("without batching (TRACKER_UDP_FFI=0) or for a host name, Bun's socket serves the same tracker", async () => {
    for (const o of [
      { hostname: "127.0.0.1", batched: false },
      { hostname: "localhost", batched: true },
    ]) {
      const server = await serveUdp(newTracker(), { ...o, port: 0, log: createLogger("error") });
      try {
        expect(server.kind).toBe("Bun.udpSocket");
        const client = await UdpTrackerClient.open("127.0.0.1", server.port);
        const reply = await client.announce({ infoHash: new Uint8Array(20).fill(5), port: 7003 });
        expect(reply.action).toBe("announce");
        client.close();
      } finally {
        await server.stop();
      }
    }
  });
});

function announceOf(connectionId: bigint, transactionId: number, infoHash: Uint8Array, n: number): Uint8Array {
  const peerId = new Uint8Array(20);
  new DataView(peerId.buffer).setUint32(16, n);
  return encodeAnnounceRequest({
    connectionId,
    transactionId,
    infoHash,
    peerId,
    downloaded: 0,
    left: 1000,
    uploaded: 0,
    event: "none",
    ip: 0,
    key: n + 1,
    numWant: 10,
    port: 1024 + n,
  });
}
