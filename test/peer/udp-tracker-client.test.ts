// peer/tracker/udp-tracker-client.ts against real trackers over loopback: our tracker's UDP endpoint
// (the Bun entry, on 127.0.0.1 and ::1) and opentracker (IPv4 only), through a relay that counts the
// client's datagrams (connection ids reused for a minute, one connect for concurrent requests).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { lookup } from "node:dns/promises";
import { toHex } from "../../shared/bytes.ts";
import { UdpTrackerClient, type UdpAnnounce } from "../../peer/tracker/udp-tracker-client.ts";
import { startOpentracker } from "../support/opentracker.ts";
import { freePort } from "../support/ports.ts";
import { makeTempDir } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { requestAction, startUdpRelay } from "../support/udp-relay.ts";
import { startBunTracker, type UdpTrackerProcess } from "../tracker/udp-servers.ts";

const CONNECT = 0;
const random20 = () => crypto.getRandomValues(new Uint8Array(20));

function announceOf(infoHash: Uint8Array, port: number, fields: Partial<UdpAnnounce> = {}): UdpAnnounce {
  return { infoHash, peerId: random20(), port, left: 1000, downloaded: 0, uploaded: 0, event: "started", key: port, numWant: 50, ...fields };
}

function ipv6LoopbackBindable(): boolean {
  try {
    Bun.listen({ hostname: "::1", port: 0, socket: { data() {} } }).stop(true);
    return true;
  } catch {
    return false;
  }
}

const clients: UdpTrackerClient[] = [];
/**
 * A client that sends each request once within any test here: its first retransmission would come after
 * 60 s, past every test's deadline. These tests count the datagrams it sends, so a retransmission (a
 * reply slower than the wait, as under load) would be counted as a request of its own; loopback does not
 * lose datagrams, and the schedule is tested apart (udp-tracker-schedule.test.ts).
 */
function newClient(options: ConstructorParameters<typeof UdpTrackerClient>[0] = {}): UdpTrackerClient {
  const c = new UdpTrackerClient({ retransmitBaseMs: 60_000, maxAttempts: 5, ...options });
  clients.push(c);
  return c;
}

afterAll(() => {
  for (const c of clients) c.close();
});

for (const host of ["127.0.0.1", "::1"]) {
  const loopback = host;
  describe.skipIf(host === "::1" && !ipv6LoopbackBindable())(`our tracker's UDP endpoint on ${host}`, () => {
    let tracker: UdpTrackerProcess;
    beforeAll(async () => {
      tracker = await startBunTracker({ host });
    }, 60_000);
    afterAll(async () => {
      await tracker?.stop();
    }, 30_000);

    test("announce, a second peer learns the first in its family's compact form, scrape counts both", async () => {
      const client = newClient();
      const hash = random20();
      const first = await client.announce(tracker.announceUrl, announceOf(hash, 6001, { left: 0 }));
      expect(first.peers).toEqual([]);
      expect(first.interval).toBeGreaterThan(0);
      const second = await client.announce(tracker.announceUrl, announceOf(hash, 6002));
      expect(second.peers).toEqual([{ ip: loopback, port: 6001 }]);
      expect(second.seeders).toBe(1);
      expect(await client.scrape(tracker.announceUrl, [hash, random20()])).toEqual([
        { seeders: 1, completed: 0, leechers: 1 },
        { seeders: 0, completed: 0, leechers: 0 },
      ]);
    }, 30_000);

    test("requests within a minute share one connection id; concurrent requests share one connect", async () => {
      const relay = await startUdpRelay(host, tracker.port);
      try {
        const client = newClient();
        const hash = random20();
        await Promise.all([client.announce(relay.url, announceOf(hash, 6101)), client.announce(relay.url, announceOf(hash, 6102))]);
        await client.announce(relay.url, announceOf(hash, 6103));
        const counts = await client.scrape(relay.url, [hash]);
        expect(counts[0]!.leechers).toBe(3);
        expect(relay.requests.map(requestAction)).toEqual([CONNECT, 1, 1, 1, 2]);
      } finally {
        relay.close();
      }
    }, 30_000);

    test("with a connection id lifetime of zero, every request connects first", async () => {
      const relay = await startUdpRelay(host, tracker.port);
      try {
        const client = newClient({ connectionIdTtlMs: 0 });
        const hash = random20();
        await client.announce(relay.url, announceOf(hash, 6201));
        await client.announce(relay.url, announceOf(hash, 6202));
        await client.scrape(relay.url, [hash]);
        expect(relay.requests.map(requestAction)).toEqual([CONNECT, 1, CONNECT, 1, CONNECT, 2]);
      } finally {
        relay.close();
      }
    }, 30_000);
  });
}

test("a udp:// URL naming a host (localhost) is resolved and announced to", async () => {
  const resolved = await lookup("localhost");
  if (resolved.family === 6 && !ipv6LoopbackBindable()) return;
  const tracker = await startBunTracker({ host: resolved.address });
  try {
    const client = newClient();
    const hash = random20();
    await client.announce(`udp://localhost:${tracker.port}/announce`, announceOf(hash, 6301, { left: 0 }));
    const reply = await client.announce(`udp://localhost:${tracker.port}`, announceOf(hash, 6302));
    expect(reply.peers).toEqual([{ ip: resolved.address, port: 6301 }]);
  } finally {
    await tracker.stop();
  }
}, 60_000);

describe.skipIf(!needs(PROGRAMS.opentracker))("opentracker (IPv4; Debian's build is IPv4 only)", () => {
  const hashes = Array.from({ length: 4 }, random20);
  let dir = "";
  let ot: Awaited<ReturnType<typeof startOpentracker>>;
  let url = "";
  beforeAll(async () => {
    dir = makeTempDir("udp-client-opentracker-");
    const port = freePort();
    ot = await startOpentracker({ infoHashes: hashes.map(toHex), dir, port, udpPort: port });
    url = `udp://127.0.0.1:${port}/announce`;
  }, 60_000);
  afterAll(async () => {
    await ot?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  test("announce, peers, completed and scrape counts; one connect for all of it", async () => {
    const relay = await startUdpRelay("127.0.0.1", ot.port);
    try {
      const client = newClient();
      const hash = hashes[0]!;
      // opentracker lists the announcing peer itself too.
      await client.announce(relay.url, announceOf(hash, 6401, { left: 0 }));
      const leecher = announceOf(hash, 6402);
      const reply = await client.announce(relay.url, leecher);
      expect(reply.peers).toContainEqual({ ip: "127.0.0.1", port: 6401 });
      expect([reply.seeders, reply.leechers]).toEqual([1, 1]);
      await client.announce(relay.url, { ...leecher, event: "completed", left: 0, downloaded: 1000 });
      expect(await client.scrape(relay.url, [hash])).toEqual([{ seeders: 2, completed: 1, leechers: 0 }]);
      expect(relay.requests.map(requestAction)).toEqual([CONNECT, 1, 1, 1, 2]);
    } finally {
      relay.close();
    }
  }, 30_000);

  test("a torrent opentracker does not serve (it answers with a bare 8-byte announce header) ends in a typed bad-reply", async () => {
    // The client waits out each attempt's timeout however it is answered, so the last answer must come
    // within the last wait (here 2 s) to be counted as refused rather than dropped: ample on loopback
    // under load, where the 400 ms of a 100 ms base were not.
    const client = newClient({ retransmitBaseMs: 1_000, maxAttempts: 2 });
    const failure = await client.announce(url, announceOf(random20(), 6501)).catch((e) => e);
    expect(failure.name).toBe("UdpTrackerError");
    expect(failure.code).toBe("bad-reply");
    expect(failure.message).toContain("too-short");
    // Every attempt was answered and refused; nothing is left outstanding.
    expect(client.counts()).toMatchObject({ outstanding: 0, refused: 2, requestsSent: 2 });
  }, 30_000);
});
