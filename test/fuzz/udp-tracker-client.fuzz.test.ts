// Fuzz: what the UDP tracker client (peer/tracker/) does with replies from the network. Mutated BEP 15
// replies, most carrying the transaction id of a request we are waiting on, some from the wrong
// address or port: the transaction table never throws, takes only a reply that decodes, comes from the
// request's tracker and is of the kind asked for (or an error packet), and refuses or drops the rest.
// Then end to end over loopback: a "tracker" answers every request with a mutated reply before the
// right one, and each announce ends in its result or a typed UdpTrackerError, with nothing left over.
import { afterAll, expect, test } from "bun:test";
import { UdpTrackerClient, UdpTrackerError, type UdpAnnounce } from "../../peer/tracker/udp-tracker-client.ts";
import type { UdpTarget } from "../../peer/tracker/udp-target.ts";
import { Transactions } from "../../peer/tracker/udp-transactions.ts";
import {
  decodeResponse,
  encodeAnnounceResponse,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeResponse,
  type UdpResponse,
} from "../../shared/udp-tracker/index.ts";
import { requestAction, requestTx, startScriptedTracker } from "../support/udp-relay.ts";
import { fuzzSettings, fuzzTimeout, Mutator, Rng, runFuzz } from "./fuzz-kit.ts";

const tableSettings = fuzzSettings(20_000);
const clientSettings = fuzzSettings(2000);
const KINDS = ["connect", "announce", "scrape"] as const;

function corpus(rng: Rng): Uint8Array[] {
  return [
    encodeConnectResponse({ transactionId: 1, connectionId: 0x0102030405060708n }),
    encodeAnnounceResponse({ transactionId: 1, interval: 1800, leechers: 3, seeders: 4, peers: rng.bytes(36) }, 4),
    encodeAnnounceResponse({ transactionId: 1, interval: 60, leechers: 0, seeders: 1, peers: rng.bytes(36) }, 6),
    encodeScrapeResponse({
      transactionId: 1,
      entries: [
        { seeders: 1, completed: 2, leechers: 3 },
        { seeders: 4, completed: 5, leechers: 6 },
      ],
    }),
    encodeErrorResponse({ transactionId: 1, message: "Requested download is not authorized" }),
  ];
}

/** The mutated input with its transaction id field set to `tx` (when it is long enough to have one). */
function withTx(input: Uint8Array, tx: number): Uint8Array {
  const out = input.slice();
  if (out.length >= 8) new DataView(out.buffer).setUint32(4, tx);
  return out;
}

test(
  `fuzz: the transaction table takes only a fitting reply from the request's tracker (${tableSettings.cases} cases)`,
  async () => {
    const mutator = new Mutator(corpus(new Rng(11)));
    let taken = 0;
    await runFuzz(
      "udp-client-transactions",
      tableSettings,
      (rng) => mutator.next(rng),
      (input, rng) => {
        const table = new Transactions(4, () => 0xc0ffee);
        const family = rng.chance(0.5) ? 4 : 6;
        const target: UdpTarget = { address: family === 4 ? "127.0.0.1" : "::1", port: 6969, family };
        const kind = rng.pick(KINDS);
        const t = table.begin(target, (r) => (r.action === kind ? null : "wrong kind"));
        const packet = rng.chance(0.8) ? withTx(input, t.id) : input;
        const fromTracker = rng.chance(0.8);
        table.receive(packet, family, fromTracker ? target.address : "127.0.0.2", fromTracker ? 6969 : 6970);
        if (t.reply) {
          taken++;
          expect(fromTracker).toBe(true);
          const decoded: UdpResponse = decodeResponse(packet, family);
          expect(decoded.transactionId).toBe(t.id);
          expect([kind, "error"]).toContain(decoded.action);
          expect(t.reply).toEqual(decoded);
        }
        const counts = table.counts();
        expect(counts.dropped + counts.refused + (t.reply ? 1 : 0)).toBe(1);
        table.end(t);
        expect(table.counts().outstanding).toBe(0);
      },
    );
    // The fuzz reached the taking path, not only the drop paths.
    expect(taken).toBeGreaterThan(tableSettings.cases / 50);
  },
  fuzzTimeout(tableSettings),
);

const closers: Array<() => void> = [];
afterAll(() => closers.forEach((close) => close()));

test(
  `fuzz: announces through a tracker that sends a mutated reply before each right one end in a result or a typed error (${clientSettings.cases} cases)`,
  async () => {
    const mutator = new Mutator(corpus(new Rng(12)));
    let current: Uint8Array = new Uint8Array(0);
    let sameTx = true;
    const tracker = await startScriptedTracker("127.0.0.1", (request) => {
      const tx = requestTx(request);
      const right =
        requestAction(request) === 0
          ? encodeConnectResponse({ transactionId: tx, connectionId: 77n })
          : encodeAnnounceResponse({ transactionId: tx, interval: 900, leechers: 1, seeders: 1, peers: Uint8Array.of(127, 0, 0, 1, 0x1a, 0xe1) }, 4);
      return [{ bytes: sameTx ? withTx(current, tx) : current }, { bytes: right }];
    });
    closers.push(() => tracker.close());
    // A fresh connection id for every announce, so every case goes through a connect as well.
    const client = new UdpTrackerClient({ retransmitBaseMs: 5000, maxAttempts: 2, connectionIdTtlMs: 0 });
    closers.push(() => client.close());
    const announce: UdpAnnounce = {
      infoHash: new Uint8Array(20).fill(3),
      peerId: new Uint8Array(20).fill(4),
      port: 6881,
      left: 1,
      downloaded: 0,
      uploaded: 0,
      key: 1,
    };
    const outcomes = new Map<string, number>();
    await runFuzz(
      "udp-client-announce",
      clientSettings,
      (rng) => mutator.next(rng),
      async (input, rng) => {
        current = input;
        sameTx = rng.chance(0.8);
        let outcome: string;
        try {
          const reply = await client.announce(tracker.url, announce);
          expect(Number.isInteger(reply.interval)).toBe(true);
          for (const p of reply.peers) expect(p.port).toBeGreaterThan(0);
          outcome = "ok";
        } catch (error) {
          if (!(error instanceof UdpTrackerError)) throw error;
          // Only a well-formed error packet from the tracker can end a request that its right reply would have completed.
          expect(error.code).toBe("tracker-error");
          outcome = error.code;
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        expect(client.counts().outstanding).toBe(0);
      },
    );
    expect(outcomes.get("ok")).toBeGreaterThan(clientSettings.cases / 2);
  },
  fuzzTimeout(clientSettings, 200),
);
