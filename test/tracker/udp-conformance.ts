// The UDP tracker (BEP 15) conformance suite: one set of behaviours run against our tracker (the real
// Bun and Deno entries) and against opentracker, the reference, in the same run. Each test uses its
// own info hashes from a fixed pool (opentracker serves only whitelisted hashes).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { encodeAnnounceRequest, encodeConnectRequest, encodeScrapeRequest } from "../../shared/udp-tracker/index.ts";
import { UdpTrackerClient } from "./udp-client.ts";

export interface UdpTrackerUnderTest {
  host: string;
  port: number;
  stop(): Promise<void>;
}

/** The info hashes the suite uses, known before any tracker starts (for opentracker's whitelist). */
export const UDP_CONFORMANCE_HASHES: Uint8Array[] = Array.from({ length: 16 }, () => crypto.getRandomValues(new Uint8Array(20)));

export interface ConformanceOptions {
  /**
   * A reference tracker (opentracker) is held to BEP 15 only, not to our stricter guarantees: it may
   * answer a wrong connection id with an error packet, and binds ids to the address but not the port.
   */
  reference?: boolean;
}

export function runUdpConformance(name: string, start: () => Promise<UdpTrackerUnderTest>, opts: ConformanceOptions = {}): void {
  const ours = !opts.reference;
  describe(`UDP tracker conformance: ${name}`, () => {
    let t: UdpTrackerUnderTest;
    const clients: UdpTrackerClient[] = [];
    let nextHash = 0;
    const hash = () => UDP_CONFORMANCE_HASHES[nextHash++]!;
    const client = async () => {
      const c = await UdpTrackerClient.open(t.host, t.port);
      clients.push(c);
      return c;
    };
    const family = () => (t.host.includes(":") ? 6 : 4);
    const loopback = () => (family() === 6 ? "::1" : "127.0.0.1");
    const peerSize = () => (family() === 6 ? 18 : 6);
    /** The peers of an announce reply as "address:port" strings. */
    const peersOf = (peers: Uint8Array): string[] => {
      const size = peerSize();
      const out: string[] = [];
      for (let i = 0; i < peers.length; i += size) {
        const addr = peers.subarray(i, i + size - 2);
        const text = size === 6 ? addr.join(".") : addr.every((b, j) => (j === 15 ? b === 1 : b === 0)) ? "::1" : "other";
        out.push(`${text}:${(peers[i + size - 2]! << 8) | peers[i + size - 1]!}`);
      }
      return out;
    };

    beforeAll(async () => {
      t = await start();
    }, 120_000);
    afterAll(async () => {
      for (const c of clients) c.close();
      await t?.stop();
    }, 30_000);

    test("connect: the reply is the 16-byte connect response with our transaction id", async () => {
      const c = await client();
      const tx = c.tx();
      c.send(encodeConnectRequest(tx));
      const reply = await c.next(tx);
      expect(reply.action).toBe("connect");
      expect(c.rawReply(tx)!.length).toBe(16);
    });

    test("announce: a second leecher gets the first one's address and port; counts and reply size are exact", async () => {
      const h = hash();
      const a = await client();
      const b = await client();
      await a.announce({ infoHash: h, port: 7001, event: "started" });
      const reply = await b.announce({ infoHash: h, port: 7002, event: "started" });
      expect(peersOf(reply.peers)).toContain(`${loopback()}:7001`);
      expect(reply.leechers).toBe(2);
      expect(reply.seeders).toBe(0);
      expect(reply.interval).toBeGreaterThan(0);
      // Header and whole peers, nothing more.
      expect(reply.peers.length % peerSize()).toBe(0);
    });

    test("numwant bounds the peers in the reply", async () => {
      const h = hash();
      const c = await client();
      for (let port = 7101; port < 7106; port++) await c.announce({ infoHash: h, port });
      const reply = await c.announce({ infoHash: h, port: 7110, numWant: 2 });
      expect(reply.peers.length).toBe(2 * peerSize());
    });

    test("scrape: seeders, completed and leechers per torrent, in request order; an unknown torrent reads zeros", async () => {
      const [h, unknown] = [hash(), hash()];
      const c = await client();
      await c.announce({ infoHash: h, port: 7201, left: 0, event: "started" });
      await c.announce({ infoHash: h, port: 7202, left: 10, event: "started" });
      await c.announce({ infoHash: h, port: 7203, left: 10, event: "started" });
      await c.announce({ infoHash: h, port: 7203, left: 0, event: "completed", peerId: new Uint8Array(20).fill(3) });
      const reply = await c.scrape([unknown, h]);
      expect(reply.entries[0]).toEqual({ seeders: 0, completed: 0, leechers: 0 });
      expect(reply.entries[1]!.completed).toBe(1);
      expect(reply.entries[1]!.seeders).toBe(2);
      expect(reply.entries).toHaveLength(2);
    });

    test("stopped takes the peer out of the swarm", async () => {
      const h = hash();
      const c = await client();
      const peerId = new Uint8Array(20).fill(9);
      await c.announce({ infoHash: h, port: 7301, peerId, event: "started" });
      expect((await c.scrape([h])).entries[0]!.leechers).toBe(1);
      await c.announce({ infoHash: h, port: 7301, peerId, event: "stopped" });
      expect((await c.scrape([h])).entries[0]!.leechers).toBe(0);
    });

    /** Ours: no reply at all. A reference may send an error packet, no larger than the request. */
    const expectRefused = (reply: Uint8Array | undefined, request: Uint8Array) => {
      if (ours || reply === undefined) return expect(reply).toBeUndefined();
      expect(new DataView(reply.buffer, reply.byteOffset).getUint32(0)).toBe(3);
      expect(reply.length).toBeLessThanOrEqual(request.length);
    };

    test(`an announce or scrape with a connection id we were not given gets ${ours ? "nothing" : "nothing or an error"} back`, async () => {
      const c = await client();
      const tx = c.tx();
      const announce = encodeAnnounceRequest({
        connectionId: 0x1234_5678_9abc_def0n,
        transactionId: tx,
        infoHash: hash(),
        peerId: new Uint8Array(20).fill(1),
        downloaded: 0,
        left: 1,
        uploaded: 0,
        event: "started",
        ip: 0,
        key: 0,
        numWant: 50,
        port: 7401,
      });
      expectRefused(await c.answers(announce, tx), announce);
      const tx2 = c.tx();
      const scrape = encodeScrapeRequest({ connectionId: 77n, transactionId: tx2, infoHashes: [hash()] });
      expectRefused(await c.answers(scrape, tx2), scrape);
    });

    test.skipIf(!ours)("a connection id given to one port is refused from another", async () => {
      const [a, b] = [await client(), await client()];
      const id = await a.connect();
      const tx = b.tx();
      const packet = encodeScrapeRequest({ connectionId: id, transactionId: tx, infoHashes: [hash()] });
      expect(await b.answers(packet, tx)).toBeUndefined();
    });

    test("short packets and a connect without the protocol id are dropped", async () => {
      const c = await client();
      const tx = c.tx();
      for (const length of [0, 1, 8, 12, 15]) {
        const packet = encodeConnectRequest(tx).subarray(0, length);
        expect(await c.answers(packet, tx)).toBeUndefined();
      }
      const wrongMagic = encodeConnectRequest(tx);
      wrongMagic[7] = wrongMagic[7]! ^ 1;
      expect(await c.answers(wrongMagic, tx)).toBeUndefined();
    });

    test("a truncated announce with a valid connection id gets nothing, or an error no larger than the request", async () => {
      const c = await client();
      const connectionId = await c.connect();
      const tx = c.tx();
      const full = encodeAnnounceRequest({
        connectionId,
        transactionId: tx,
        infoHash: hash(),
        peerId: new Uint8Array(20).fill(2),
        downloaded: 0,
        left: 1,
        uploaded: 0,
        event: "none",
        ip: 0,
        key: 0,
        numWant: 5,
        port: 7501,
      });
      const packet = full.subarray(0, 60);
      const reply = await c.answers(packet, tx);
      if (reply !== undefined) {
        expect(new DataView(reply.buffer, reply.byteOffset).getUint32(0)).toBe(3);
        expect(reply.length).toBeLessThanOrEqual(packet.length);
      }
    });
  });
}
