// The tracker conformance suite: one set of behaviours, run against every way the tracker is served
// (in-process on Bun, workerd via `wrangler dev`, `deno serve`). Each test uses its own random info
// hash, so tests do not depend on each other or on their order. The cases are in conformance-*.ts by
// concept (announce, identity and expiry, scrape and bad requests, raw HTTP), run here in one order.
import { afterAll, beforeAll, describe } from "bun:test";
import { randomId, type AnnounceParams } from "./http.ts";
import { announceCases, ipv6Cases } from "./conformance-announce.ts";
import { expiryCases, identityCases } from "./conformance-identity.ts";
import { rawHttpCases } from "./conformance-raw-http.ts";
import { badRequestCases, scrapeAndStatsCases } from "./conformance-requests.ts";

export { CONFORMANCE_ENV } from "./conformance-env.ts";

export interface TrackerUnderTest {
  /** http://127.0.0.1:port: requests arrive from 127.0.0.1. */
  baseUrl: string;
  /** The same tracker (same swarm state) listening on [::1]: requests arrive from ::1. */
  baseUrl6: string;
  stop(): Promise<void>;
}

/** Where a runtime's own HTTP server differs from the rest, so the suite expects what it does. */
export interface RuntimeTraits {
  /**
   * Who answers a request without a usable Host: the app (default), or workerd itself, before the
   * Worker runs (400 without a Host, 500 with a malformed one).
   */
  hostAnsweredBy?: "app" | "workerd";
  /**
   * False where the runtime drops the reply once the client half-closes after its request while the
   * reply is still being computed: Deno, whose HTTP/1 server (hyper) closes on read EOF.
   */
  answersAfterHalfClose?: boolean;
}

/** An announce of a fresh peer (random peer id) of `infoHash`, at `port`, with `left` bytes left. */
export type PeerParams = (infoHash: Uint8Array, port: number, left: number, extra?: Partial<AnnounceParams>) => AnnounceParams;

export function runConformance(name: string, start: () => Promise<TrackerUnderTest>, traits: RuntimeTraits = {}): void {
  describe(`tracker conformance: ${name}`, () => {
    let t: TrackerUnderTest;
    // Starting workerd or Deno (and redis-server) takes a few seconds, more on a busy CI machine.
    beforeAll(async () => {
      t = await start();
    }, 120_000);
    afterAll(async () => {
      await t?.stop();
    }, 30_000);

    const peer: PeerParams = (infoHash, port, left, extra = {}) => ({
      infoHash,
      peerId: randomId(),
      port,
      left,
      ...extra,
    });

    const tracker = () => t;
    announceCases(tracker, peer);
    identityCases(tracker, peer);
    scrapeAndStatsCases(tracker, peer);
    badRequestCases(tracker);
    rawHttpCases(tracker, peer, traits);
    ipv6Cases(tracker, peer);
    expiryCases(tracker, peer);
  });
}
