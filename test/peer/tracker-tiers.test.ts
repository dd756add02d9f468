// BEP 12 tracker tiers across HTTP and UDP (peer/tracker/tracker-client.ts; strict BEP 12 unless a test
// gives another AnnounceScope: every tier, every tracker), in process against real trackers
// on loopback: our tracker (HTTP and UDP on one port number), relays in front of it that count what
// reaches them, silent UDP sockets, and an HTTP port nobody listens on. The UDP clients are the real one
// with BEP 15's schedule changed so that no request is ever resent to a tracker that answers (the relays
// count announces, and a copy sent when a reply is slower than the wait, as under load, would count as
// one more): one send and a 60 s wait (past every test's deadline) where every tracker answers; one send
// and a 3 s wait, ample on loopback under load, where one that answers is asked after a silent one;
// 50 ms and two attempts only where none answers.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { TrackerClient, TrackerError } from "../../peer/tracker/tracker-client.ts";
import { UdpTrackerClient } from "../../peer/tracker/udp-tracker-client.ts";
import { encode } from "../../shared/bencode.ts";
import { decodeRequest, encodeConnectResponse, encodeErrorResponse, type AnnounceRequest } from "../../shared/udp-tracker/index.ts";
import { freePort } from "../support/ports.ts";
import { requestAction, requestTx, startScriptedTracker, startUdpRelay, type ScriptedTracker, type UdpRelay } from "../support/udp-relay.ts";
import { startBunTracker, type UdpTrackerProcess } from "../tracker/udp-servers.ts";

const HOST = "127.0.0.1";
const ANNOUNCE = 1;
const stats = { uploaded: 0, downloaded: 0, left: 100 };
const random20 = () => crypto.getRandomValues(new Uint8Array(20));

let tracker: UdpTrackerProcess;
let httpUrl = "";
const closers: Array<() => void> = [];
const udp = new UdpTrackerClient({ retransmitBaseMs: 60_000, maxAttempts: 1 });
const patient = new UdpTrackerClient({ retransmitBaseMs: 3_000, maxAttempts: 1 });
const quick = new UdpTrackerClient({ retransmitBaseMs: 50, maxAttempts: 2 });

beforeAll(async () => {
  tracker = await startBunTracker({ host: HOST });
  httpUrl = `http://${HOST}:${tracker.port}/announce`;
}, 60_000);
afterAll(async () => {
  for (const c of [udp, patient, quick]) c.close();
  for (const close of closers) close();
  await tracker?.stop();
}, 30_000);

async function relay(): Promise<UdpRelay> {
  const r = await startUdpRelay(HOST, tracker.port);
  closers.push(() => r.close());
  return r;
}
async function silent(): Promise<ScriptedTracker> {
  const t = await startScriptedTracker(HOST, () => []);
  closers.push(() => t.close());
  return t;
}
const announcesAt = (r: { requests: Uint8Array[] }) => r.requests.filter((p) => requestAction(p) === ANNOUNCE).length;
/** http://127.0.0.1:PORT/announce with nothing listening: refused at once. */
const refusedHttp = () => `http://${HOST}:${freePort()}/announce`;
const newClient = (tiers: string[][], port = 6881, client = udp) => new TrackerClient(tiers, random20(), random20(), port, client);

test("the next tier is tried only when every tracker of this one failed (a silent UDP tracker, a refused HTTP one); later tiers are not asked", async () => {
  const dead = await silent();
  const second = await relay();
  const third = await relay();
  const client = newClient([[dead.url, refusedHttp()], [second.url], [third.url]], 6881, patient);
  const result = await client.announce("started", stats);
  expect(result.tracker).toBe(second.url);
  expect(dead.requests.length).toBe(1); // the one attempt at a connect
  expect(announcesAt(second)).toBe(1);
  expect(third.requests.length).toBe(0);
}, 30_000);

test("within a tier, a tracker that answers moves to the front and is asked first from then on (UDP and HTTP mixed)", async () => {
  // The good tracker must answer within the wait that passes over the silent one (patient's 3 s).
  // The tier is shuffled: over six fresh clients the good tracker comes after a dead one in some
  // (all but 1 in 729 runs), which is the case under test; in the others nothing moves.
  for (let round = 0; round < 6; round++) {
    const dead = await silent();
    const good = await relay();
    const client = new TrackerClient([[dead.url, refusedHttp(), good.url]], random20(), random20(), 6881, patient);
    expect((await client.announce("started", stats)).tracker).toBe(good.url);
    const deadBefore = dead.requests.length;
    for (let i = 0; i < 3; i++) expect((await client.announce(undefined, stats)).tracker).toBe(good.url);
    expect(dead.requests.length).toBe(deadBefore);
    expect(announcesAt(good)).toBe(4);
  }
}, 60_000);

test("with two working trackers in a tier only the one tried first is ever asked (shuffled once, then kept)", async () => {
  const a = await relay();
  const b = await relay();
  const client = newClient([[a.url, httpUrl, b.url]]);
  const first = (await client.announce("started", stats)).tracker;
  for (let i = 0; i < 3; i++) expect((await client.announce(undefined, stats)).tracker).toBe(first);
  expect(announcesAt(a) + announcesAt(b)).toBe(first === httpUrl ? 0 : 4);
}, 30_000);

test("peers come back through a UDP tracker as through an HTTP one", async () => {
  const hash = random20();
  const seeder = new TrackerClient([[`udp://${HOST}:${tracker.port}/announce`]], hash, random20(), 7001, udp);
  await seeder.announce("started", { ...stats, left: 0 });
  const leecher = new TrackerClient([[httpUrl]], hash, random20(), 7002, udp);
  expect((await leecher.announce("started", stats)).peers).toEqual([{ ip: HOST, port: 7001 }]);
  const udpLeecher = new TrackerClient([[`udp://${HOST}:${tracker.port}`]], hash, random20(), 7003, udp);
  const reply = await udpLeecher.announce("started", stats);
  expect(reply.peers).toContainEqual({ ip: HOST, port: 7001 });
  expect(reply.peers).toContainEqual({ ip: HOST, port: 7002 });
}, 30_000);

test("UDP announces carry the stats, the event, numwant (0 when stopping) and one key per torrent", async () => {
  const r = await relay();
  const client = newClient([[r.url]], 6999);
  await client.announce("started", { uploaded: 1, downloaded: 2, left: 3 });
  await client.announce("stopped", { uploaded: 4, downloaded: 5, left: 0 }, 3_000);
  const sent = r.requests.filter((p) => requestAction(p) === ANNOUNCE).map((p) => decodeRequest(p) as AnnounceRequest);
  expect(sent.map((a) => [a.event, a.uploaded, a.downloaded, a.left, a.numWant, a.port])).toEqual([
    ["started", 1, 2, 3, 50, 6999],
    ["stopped", 4, 5, 0, 0, 6999],
  ]);
  expect(sent[0]!.key).toBe(sent[1]!.key);
}, 30_000);

test("a UDP tracker's error packet is a TrackerError failure carrying its text", async () => {
  const refusing = await startScriptedTracker(HOST, (request) => [
    requestAction(request) === 0
      ? { bytes: encodeConnectResponse({ transactionId: requestTx(request), connectionId: 5n }) }
      : { bytes: encodeErrorResponse({ transactionId: requestTx(request), message: "torrent not registered" }) },
  ]);
  closers.push(() => refusing.close());
  const failure = await newClient([[refusing.url]])
    .announce("started", stats)
    .catch((e) => e);
  expect(failure).toBeInstanceOf(TrackerError);
  expect([failure.code, failure.message]).toEqual(["failure", "tracker says: torrent not registered"]);
}, 30_000);

test("when no tracker of any tier answers: TrackerError unreachable, naming the last problem", async () => {
  const dead = await silent();
  const failure = await newClient([[refusedHttp()], [dead.url]], 6881, quick)
    .announce("started", stats)
    .catch((e) => e);
  expect(failure).toBeInstanceOf(TrackerError);
  expect(failure.code).toBe("unreachable");
  expect(failure.message).toContain(`${dead.url}: no reply`);
}, 30_000);

test("a stop announce with a deadline gives up on a silent UDP tracker at the deadline, not the schedule", async () => {
  const dead = await silent();
  const slow = new UdpTrackerClient({ retransmitBaseMs: 60_000, maxAttempts: 9 });
  closers.push(() => slow.close());
  const failure = await new TrackerClient([[dead.url]], random20(), random20(), 6881, slow).announce("stopped", stats, 200).catch((e) => e);
  expect(failure.code).toBe("unreachable");
  expect(failure.message).toContain("aborted");
  expect(slow.counts().outstanding).toBe(0);
}, 30_000);

test("announcing to every tier: each tier on its own, with its own event and backoff; a round between asks only the tiers due", async () => {
  const dead = await silent();
  const good = await relay();
  const client = new TrackerClient([[dead.url], [good.url]], random20(), random20(), 6881, quick, () => "every-tier");
  const first = await client.round(undefined, stats, { all: true });
  expect(first.answers.map((a) => a.tracker)).toEqual([good.url]);
  expect(first.failures.map((f) => [f.error.code, f.retryInS])).toEqual([["unreachable", 5]]);
  const deadTries = dead.requests.length;
  // Due first: the dead tier, at its backoff (the good one's interval is the tracker's, far later).
  expect(client.nextDueAt()).toBeLessThan(Date.now() + 6_000);
  while (Date.now() < client.nextDueAt()) await Bun.sleep(100);
  const second = await client.round(undefined, stats, { all: false });
  expect([second.answers.length, second.failures.map((f) => f.retryInS)]).toEqual([0, [10]]);
  expect(dead.requests.length).toBeGreaterThan(deadTries);
  expect(announcesAt(good)).toBe(1);
  // Every tier again (a reannounce): the good tier, started already, sends no event; the dead one still `started`.
  await client.round(undefined, stats, { all: true });
  const sent = good.requests.filter((p) => requestAction(p) === ANNOUNCE).map((p) => (decodeRequest(p) as AnnounceRequest).event);
  expect(sent).toEqual(["started", "none"]);
}, 30_000);

test("announcing to every tracker: both trackers of one tier are asked", async () => {
  const a = await relay();
  const b = await relay();
  const client = new TrackerClient([[a.url, b.url]], random20(), random20(), 6881, udp, () => "every-tracker");
  const outcome = await client.round(undefined, stats, { all: true });
  expect(outcome.answers.map((r) => r.tracker).sort()).toEqual([a.url, b.url].sort());
  expect([announcesAt(a), announcesAt(b)]).toEqual([1, 1]);
}, 30_000);

/** An HTTP tracker that records each announce's event ("" for none) and holds its answers while `held`. */
function holdingTracker() {
  const events: string[] = [];
  let release = () => {};
  let gate: Promise<void> | null = null;
  const server = Bun.serve({
    hostname: HOST,
    port: 0,
    async fetch(request) {
      events.push(new URL(request.url).searchParams.get("event") ?? "");
      if (gate) await gate;
      return new Response(encode({ interval: 1800, peers: new Uint8Array(0) }) as Uint8Array<ArrayBuffer>);
    },
  });
  closers.push(() => server.stop(true));
  return {
    url: `http://${HOST}:${server.port}/announce`,
    events,
    hold() {
      gate = new Promise((resolve) => {
        release = resolve;
      });
    },
    release() {
      gate = null;
      release();
    },
  };
}

test("a tracker edit while a tier's `started` is under way: that tier's answer is kept, and no second `started` goes to it", async () => {
  const first = holdingTracker();
  const added = holdingTracker();
  const client = new TrackerClient([[first.url]], random20(), random20(), 6881, udp, () => "every-tier");
  first.hold();
  const before = client.round(undefined, stats, { all: true });
  while (first.events.length === 0) await Bun.sleep(10);
  // The edit's round, while the first `started` waits for its answer (as a daemon's tracker edit runs one).
  client.replaceTiers([[first.url], [added.url]]);
  const after = client.round(undefined, stats, { all: true });
  first.release();
  await Promise.all([before, after]);
  expect(first.events).toEqual(["started", ""]);
  expect(added.events).toEqual(["started"]);
}, 30_000);
