// Fuzz: the UDP tracker codec (shared/udp-tracker) and the tracker behind it (edge/udp). Decoders
// return a message or throw UdpCodecError, nothing else, and a decoded request re-encodes to the bytes
// it came from. The tracker never throws, and a datagram without a valid connection id gets nothing
// or, for a connect request, exactly the 16-byte connect reply: never more bytes than it sent.
import { expect, test } from "bun:test";
import {
  decodeRequest,
  decodeResponse,
  encodeAnnounceRequest,
  encodeAnnounceResponse,
  encodeConnectRequest,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeRequest,
  encodeScrapeResponse,
  UdpCodecError,
} from "../../shared/udp-tracker/index.ts";
import { loadConfig } from "../../edge/config.ts";
import { trackerCore } from "../../edge/announce-core.ts";
import { createLogger } from "../../edge/log.ts";
import { MemorySwarmStore } from "../../edge/store/memory.ts";
import { ConnectionIds } from "../../edge/udp/connection-id.ts";
import { UdpTracker } from "../../edge/udp/udp-tracker.ts";
import { fuzzSettings, fuzzTimeout, Mutator, Rng, runFuzz } from "./fuzz-kit.ts";

const settings = fuzzSettings(6000);
const ids = (rng: Rng) => rng.bytes(20);

function corpus(rng: Rng, connectionId: bigint): Uint8Array[] {
  return [
    encodeConnectRequest(1),
    encodeAnnounceRequest({
      connectionId,
      transactionId: 2,
      infoHash: ids(rng),
      peerId: ids(rng),
      downloaded: 1,
      left: 2,
      uploaded: 3,
      event: "started",
      ip: 0,
      key: 4,
      numWant: 50,
      port: 6881,
    }),
    encodeScrapeRequest({ connectionId, transactionId: 2, infoHashes: [ids(rng), ids(rng)] }),
    encodeConnectResponse({ transactionId: 1, connectionId: 2n }),
    encodeAnnounceResponse({ transactionId: 1, interval: 2, leechers: 3, seeders: 4, peers: rng.bytes(36) }, 4),
    encodeScrapeResponse({ transactionId: 1, entries: [{ seeders: 1, completed: 2, leechers: 3 }] }),
    encodeErrorResponse({ transactionId: 1, message: "bad" }),
  ];
}

function typedOnly(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof UdpCodecError)) throw e;
  }
}

test(
  `fuzz: UDP tracker messages decode or throw UdpCodecError, and re-encode exactly (${settings.cases} cases)`,
  async () => {
    const mutator = new Mutator(corpus(new Rng(1), 0x0123456789abcdefn));
    await runFuzz(
      "udp-tracker-codec",
      settings,
      (rng) => mutator.next(rng),
      (input) => {
        typedOnly(() => {
          const req = decodeRequest(input);
          // Byte counts are numbers, exact up to 2^53: only those re-encode to the same bytes.
          if (req.action === "announce" && [req.downloaded, req.left, req.uploaded].every(Number.isSafeInteger)) {
            expect(encodeAnnounceRequest(req)).toEqual(input.slice(0, 98));
          }
          if (req.action === "scrape") expect(encodeScrapeRequest(req)).toEqual(input);
        });
        typedOnly(() => decodeResponse(input, 4));
        typedOnly(() => decodeResponse(input, 6));
      },
    );
  },
  fuzzTimeout(settings),
);

test(
  `fuzz: the UDP tracker never throws and never answers an unconnected sender with more than it sent (${settings.cases} cases)`,
  async () => {
    const now = 1_700_000_000_000;
    const connectionIds = new ConnectionIds(new Uint8Array(16).fill(7));
    const store = new MemorySwarmStore();
    const tracker = new UdpTracker({
      core: trackerCore(loadConfig({}), store, createLogger("error")),
      connectionIds,
      now: () => now,
    });
    let announced = 0;
    const valid = connectionIds.issue("127.0.0.1", 5000, now);
    // Half the corpus carries a valid connection id for the sender, so mutations reach the store.
    const mutator = new Mutator([...corpus(new Rng(2), valid), ...corpus(new Rng(3), 42n)]);
    await runFuzz(
      "udp-tracker-server",
      settings,
      (rng) => mutator.next(rng),
      async (input) => {
        const reply = await tracker.handle(input, "127.0.0.1", 5000);
        const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
        const connected = input.length >= 16 && connectionIds.isValid(view.getBigUint64(0), "127.0.0.1", 5000, now);
        if (reply === null) return;
        const decoded = decodeResponse(reply, 4);
        if (decoded.action === "error") expect(decoded.message).not.toBe("internal tracker error");
        if (connected) {
          if (decoded.action === "announce") announced++;
          return;
        }
        expect(reply.length).toBe(16);
        expect(input.length).toBeGreaterThanOrEqual(16);
        expect(decoded.action).toBe("connect");
      },
    );
    // The fuzz got past the connection id check to the store, not only into the drop paths.
    expect(announced).toBeGreaterThan(settings.cases / 100);
  },
  fuzzTimeout(settings),
);
