// The UDP tracker client's retransmission schedule (BEP 15: 15 × 2^n s, shortened here through the
// client's base) and its reaction to hostile or broken "trackers": real sockets on loopback whose
// answers the test writes. The client keeps waiting through replies it cannot take, or ends with a
// typed UdpTrackerError; it never throws anything else and leaves nothing outstanding.
import { afterAll, describe, expect, test } from "bun:test";
import { encodeAnnounceResponse, encodeConnectResponse, encodeErrorResponse, encodeScrapeResponse } from "../../shared/udp-tracker/index.ts";
import { retransmitTimeoutMs, UdpTrackerClient, UdpTrackerError, type UdpAnnounce } from "../../peer/tracker/udp-tracker-client.ts";
import { requestAction, requestTx, startScriptedTracker, startUdpRelay, type ScriptedReply, type ScriptedTracker } from "../support/udp-relay.ts";
import { startBunTracker } from "../tracker/udp-servers.ts";

const HOST = "127.0.0.1";
const CONNECT = 0;
const ANNOUNCE = 1;
const announce: UdpAnnounce = {
  infoHash: new Uint8Array(20).fill(1),
  peerId: new Uint8Array(20).fill(2),
  port: 6881,
  left: 5,
  downloaded: 0,
  uploaded: 0,
  key: 7,
};

/**
 * For tests whose tracker answers every request and that count what was sent or refused: the first
 * retransmission would come after 60 s, past every test's deadline, so each request is sent once
 * however slow the answer (a shorter wait, under load, let copies through to be counted).
 */
const NO_RETRANSMIT_MS = 60_000;
/**
 * For tests that must end in a refusal once the attempts are spent: a refused reply counts only if it
 * comes within the attempts' waits (here 1.5 s in all), ample on loopback under load where 60 ms was not.
 */
const ANSWERED_WAIT_MS = 500;

const opened: Array<{ close(): void }> = [];
afterAll(() => {
  for (const o of opened) o.close();
});
function client(options: ConstructorParameters<typeof UdpTrackerClient>[0]): UdpTrackerClient {
  const c = new UdpTrackerClient(options);
  opened.push(c);
  return c;
}
async function scripted(answer: (request: Uint8Array, index: number) => ScriptedReply[]): Promise<ScriptedTracker> {
  const t = await startScriptedTracker(HOST, answer);
  opened.push(t);
  return t;
}
const connectionIdOf = (request: Uint8Array) => new DataView(request.buffer, request.byteOffset).getBigUint64(0);
const connectReply = (request: Uint8Array, connectionId = 0x1234n): ScriptedReply => ({
  bytes: encodeConnectResponse({ transactionId: requestTx(request), connectionId }),
});
const announceReply = (request: Uint8Array): ScriptedReply => ({
  bytes: encodeAnnounceResponse(
    { transactionId: requestTx(request), interval: 900, leechers: 1, seeders: 2, peers: Uint8Array.of(10, 0, 0, 1, 0x1a, 0xe1) },
    4,
  ),
});
/** A tracker that answers connects and announces correctly. */
const _honest = (request: Uint8Array) => [requestAction(request) === CONNECT ? connectReply(request) : announceReply(request)];
async function failureOf(p: Promise<unknown>): Promise<UdpTrackerError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof UdpTrackerError)) throw new Error(`expected a UdpTrackerError, got ${String(e)}`);
  return e;
}

describe("retransmission", () => {
  test("the wait before each resend is BEP 15's: base × 2^n, doubling up to n = 8 and then staying", () => {
    expect([0, 1, 2, 3, 8, 9, 12].map((n) => retransmitTimeoutMs(15_000, n))).toEqual([15_000, 30_000, 60_000, 120_000, 3_840_000, 3_840_000, 3_840_000]);
    expect(retransmitTimeoutMs(40, 2)).toBe(160);
  });

  // The waits themselves are the function above; timing them here would measure the machine's load (the
  // relay stamps a datagram when its own callback runs, late or not), so this checks what was sent.
  test("datagrams lost on the way are sent again, same bytes; then the request succeeds", async () => {
    const tracker = await startBunTracker({ host: HOST });
    const relay = await startUdpRelay(HOST, tracker.port, 3);
    try {
      const base = 40;
      const c = client({ retransmitBaseMs: base, maxAttempts: 9 });
      const reply = await c.announce(relay.url, announce);
      expect(reply.interval).toBeGreaterThan(0);
      // The three lost connects and the one that got through, then the announce; a reply slower than the
      // 40 ms wait (as under load) adds copies of the connect or the announce, as it should.
      const actions = relay.requests.map(requestAction);
      const connects = actions.indexOf(ANNOUNCE);
      expect(connects).toBeGreaterThanOrEqual(4);
      expect(actions).toEqual([...Array(connects).fill(CONNECT), ...Array(actions.length - connects).fill(ANNOUNCE)]);
      // Retransmissions repeat the datagram, transaction id included, so a late reply still counts.
      for (const r of relay.requests.slice(1, connects)) expect(r).toEqual(relay.requests[0]!);
      for (const r of relay.requests.slice(connects + 1)) expect(r).toEqual(relay.requests[connects]!);
    } finally {
      relay.close();
      await tracker.stop();
    }
  }, 30_000);

  test("a tracker that never answers: exactly maxAttempts identical sends, then a typed timeout", async () => {
    const silent = await scripted(() => []);
    const c = client({ retransmitBaseMs: 20, maxAttempts: 4 });
    const e = await failureOf(c.announce(silent.url, announce));
    expect(e.code).toBe("timeout");
    expect(silent.requests.length).toBe(4);
    for (const r of silent.requests) expect(r).toEqual(silent.requests[0]!);
    expect(c.counts().outstanding).toBe(0);
  }, 30_000);

  test("a connection id that expires while an announce is being retransmitted is asked for again", async () => {
    // Connection ids 1, 2, ...; announces are answered unless they carry an id issued to the first
    // connect, as if the tracker had forgotten it. A reply slower than the 30 ms wait (as under load)
    // brings copies of a connect, each given an id of its own, or of an announce: none is refused for that.
    let issued = 0n;
    const forgotten = new Set<bigint>();
    const lastIssuedBefore: bigint[] = [];
    const tracker = await scripted((request) => {
      lastIssuedBefore.push(issued);
      if (requestAction(request) !== CONNECT) return forgotten.has(connectionIdOf(request)) ? [] : [announceReply(request)];
      if (requestTx(request) === requestTx(tracker.requests[0]!)) forgotten.add(issued + 1n);
      return [connectReply(request, ++issued)];
    });
    const c = client({ retransmitBaseMs: 30, maxAttempts: 9, connectionIdTtlMs: 100 });
    const reply = await c.announce(tracker.url, announce);
    expect(reply.peers).toEqual([{ ip: "10.0.0.1", port: 6881 }]);
    const sent = tracker.requests.map((r, i) => ({ action: requestAction(r), tx: requestTx(r), id: connectionIdOf(r), lastIssued: lastIssuedBefore[i]! }));
    const reconnect = sent.findIndex((r) => r.action === CONNECT && r.tx !== sent[0]!.tx);
    expect(reconnect).toBeGreaterThan(1);
    // The first connect, then announces with its id until that expires...
    expect(sent[0]!.action).toBe(CONNECT);
    expect(sent.slice(0, reconnect).some((r) => r.action === ANNOUNCE)).toBe(true);
    expect(sent.slice(0, reconnect).every((r) => (r.action === CONNECT ? r.tx === sent[0]!.tx : forgotten.has(r.id)))).toBe(true);
    // ...then a new connect, and announces only with ids issued since.
    const later = sent.slice(reconnect).filter((r) => r.action === ANNOUNCE);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((r) => !forgotten.has(r.id) && r.id <= r.lastIssued)).toBe(true);
  }, 30_000);
});

describe("hostile and broken replies", () => {
  test("wrong transaction ids, short packets, replies from another port and malformed replies are passed over; the real reply is taken", async () => {
    const tracker = await scripted((request) => {
      if (requestAction(request) !== CONNECT) return [announceReply(request)];
      const tx = requestTx(request);
      return [
        { bytes: encodeConnectResponse({ transactionId: (tx + 1) >>> 0, connectionId: 0xbadn }) },
        { bytes: Uint8Array.of(0, 0, 0) },
        { bytes: encodeConnectResponse({ transactionId: tx, connectionId: 0xbadn }), fromOtherSocket: true },
        { bytes: encodeConnectResponse({ transactionId: tx, connectionId: 0xbadn }).subarray(0, 12) },
        { bytes: encodeErrorResponse({ transactionId: (tx ^ 0x80000000) >>> 0, message: "not yours" }) },
        connectReply(request, 0x600dn),
      ];
    });
    const c = client({ retransmitBaseMs: NO_RETRANSMIT_MS });
    await c.announce(tracker.url, announce);
    expect(tracker.requests.map((r) => [requestAction(r), requestAction(r) === ANNOUNCE ? connectionIdOf(r) : 0n])).toEqual([
      [CONNECT, 0n],
      [ANNOUNCE, 0x600dn],
    ]);
    // The reply from another port never reaches the client: its socket is connected to the tracker's.
    expect(c.counts()).toMatchObject({ outstanding: 0, dropped: 3, refused: 1 });
  }, 30_000);

  test("only malformed replies from the tracker: a typed bad-reply once the attempts are spent", async () => {
    const tracker = await scripted((request) => [{ bytes: encodeConnectResponse({ transactionId: requestTx(request), connectionId: 1n }).subarray(0, 15) }]);
    const c = client({ retransmitBaseMs: ANSWERED_WAIT_MS, maxAttempts: 2 });
    const e = await failureOf(c.announce(tracker.url, announce));
    expect(e.code).toBe("bad-reply");
    expect(tracker.requests.length).toBe(2);
  }, 30_000);

  test("only strangers' datagrams (wrong id or wrong port): a timeout, not a bad reply", async () => {
    const tracker = await scripted((request) => [
      { bytes: encodeConnectResponse({ transactionId: (requestTx(request) + 7) >>> 0, connectionId: 1n }) },
      { bytes: encodeErrorResponse({ transactionId: requestTx(request), message: "spoofed" }), fromOtherSocket: true },
    ]);
    const c = client({ retransmitBaseMs: 20, maxAttempts: 2 });
    expect((await failureOf(c.announce(tracker.url, announce))).code).toBe("timeout");
  }, 30_000);

  test("a reply of the wrong kind (a scrape reply to an announce, too few scrape entries) is refused", async () => {
    const tracker = await scripted((request) => {
      if (requestAction(request) === CONNECT) return [connectReply(request)];
      return [{ bytes: encodeScrapeResponse({ transactionId: requestTx(request), entries: [{ seeders: 1, completed: 1, leechers: 1 }] }) }];
    });
    const c = client({ retransmitBaseMs: ANSWERED_WAIT_MS, maxAttempts: 2 });
    expect((await failureOf(c.announce(tracker.url, announce))).message).toContain("a scrape reply to an announce");
    const scrape = await failureOf(c.scrape(tracker.url, [new Uint8Array(20), new Uint8Array(20).fill(9)]));
    expect(scrape.code).toBe("bad-reply");
    expect(scrape.message).toContain("1 scrape entries for 2 info hashes");
  }, 30_000);

  test("an error packet ends the request with its message, and the next request connects again", async () => {
    let announces = 0;
    const tracker = await scripted((request) => {
      if (requestAction(request) === CONNECT) return [connectReply(request)];
      return announces++ === 0 ? [{ bytes: encodeErrorResponse({ transactionId: requestTx(request), message: "go away" }) }] : [announceReply(request)];
    });
    const c = client({ retransmitBaseMs: NO_RETRANSMIT_MS });
    const e = await failureOf(c.announce(tracker.url, announce));
    expect(e.code).toBe("tracker-error");
    expect(e.message).toContain("go away");
    await c.announce(tracker.url, announce);
    expect(tracker.requests.map(requestAction)).toEqual([CONNECT, ANNOUNCE, CONNECT, ANNOUNCE]);
  }, 30_000);

  test("an error packet answering the connect is a tracker-error too", async () => {
    const tracker = await scripted((request) => [{ bytes: encodeErrorResponse({ transactionId: requestTx(request), message: "closed for maintenance" }) }]);
    const e = await failureOf(client({ retransmitBaseMs: NO_RETRANSMIT_MS }).announce(tracker.url, announce));
    expect([e.code, e.message]).toEqual(["tracker-error", "tracker says: closed for maintenance"]);
  }, 30_000);
});

describe("bounds and endings", () => {
  test("past maxOutstanding requests a new one is refused as busy at once; aborting frees the table", async () => {
    const silent = await Promise.all([scripted(() => []), scripted(() => []), scripted(() => [])]);
    const c = client({ retransmitBaseMs: 60_000, maxAttempts: 1, maxOutstanding: 2 });
    const controller = new AbortController();
    const waiting = silent.slice(0, 2).map((t) => failureOf(c.announce(t.url, announce, controller.signal)));
    while (c.counts().outstanding < 2) await Bun.sleep(5);
    expect((await failureOf(c.announce(silent[2]!.url, announce))).code).toBe("busy");
    controller.abort();
    expect((await Promise.all(waiting)).map((e) => e.code)).toEqual(["aborted", "aborted"]);
    expect(c.counts().outstanding).toBe(0);
  }, 30_000);

  test("a connect shared by two requests goes on while one of them remains, and is abandoned when both give up", async () => {
    const silent = await scripted(() => []);
    const c = client({ retransmitBaseMs: 60_000, maxAttempts: 1 });
    const first = new AbortController();
    const second = new AbortController();
    const a = failureOf(c.announce(silent.url, announce, first.signal));
    const b = failureOf(c.announce(silent.url, announce, second.signal));
    while (silent.requests.length < 1) await Bun.sleep(5);
    first.abort();
    expect((await a).code).toBe("aborted");
    expect(c.counts().outstanding).toBe(1);
    second.abort();
    expect((await b).code).toBe("aborted");
    expect(c.counts()).toMatchObject({ outstanding: 0, connectsSent: 1 });
  }, 30_000);

  test("a request whose signal has already fired ends as aborted; one arriving as a shared connect is abandoned is not ended by it", async () => {
    const silent = await scripted(() => []);
    const c = client({ retransmitBaseMs: 60_000, maxAttempts: 1 });
    const gone = new AbortController();
    gone.abort();
    expect((await failureOf(c.announce(silent.url, announce, gone.signal))).code).toBe("aborted");
    // One waiter leaves after the connect has started; the other must keep it alive, then end it.
    const first = new AbortController();
    const second = new AbortController();
    const a = failureOf(c.announce(silent.url, announce, first.signal));
    const b = failureOf(c.announce(silent.url, announce, second.signal));
    while (silent.requests.length < 1) await Bun.sleep(5);
    first.abort();
    await a;
    // A third request arrives just as the last waiter leaves: it must get a connect of its own
    // (or keep this one), never the abandoned connect's abort.
    const third = new AbortController();
    let thirdEnded = false;
    const d = failureOf(c.announce(silent.url, announce, third.signal)).finally(() => (thirdEnded = true));
    second.abort();
    await b;
    while (c.counts().outstanding < 1 && !thirdEnded) await Bun.sleep(5);
    expect(thirdEnded).toBe(false);
    third.abort();
    expect((await d).code).toBe("aborted");
    expect(c.counts().outstanding).toBe(0);
  }, 30_000);

  test("a datagram the socket refuses to send is a typed send-failed, not a thrown system error", async () => {
    // A resolver that names an IPv6 address as IPv4: the IPv4 socket's send fails in the kernel
    // (EAFNOSUPPORT), as one does with no route to a family; nothing leaves the machine.
    const c = client({ retransmitBaseMs: 50, resolve: async () => ({ address: "::1", family: 4 }) });
    const e = await failureOf(c.announce("udp://tracker.invalid:6969/announce", announce));
    expect(e.code).toBe("send-failed");
    expect(c.counts().outstanding).toBe(0);
  }, 30_000);

  test("a tracker port nothing listens on (ICMP port unreachable) fails that tracker's request as unreachable, not the schedule and not an uncaught error", async () => {
    const probe = await Bun.udpSocket({ hostname: "127.0.0.1" });
    const closedPort = probe.port;
    probe.close();
    const answering = await scripted((request) => [requestAction(request) === CONNECT ? connectReply(request) : announceReply(request)]);
    // A schedule long enough that only the refusal can end the request before the test's safety timeout.
    const c = client({ retransmitBaseMs: 60_000 });
    const refused = failureOf(c.announce(`udp://127.0.0.1:${closedPort}/announce`, announce));
    const answered = c.announce(answering.url, announce);
    const e = await refused;
    expect(e.code).toBe("unreachable");
    expect(e.message).toContain(`127.0.0.1:${closedPort}: connection refused`);
    // Another tracker's request, at the same time, is not touched by the refusal.
    expect((await answered).interval).toBeGreaterThan(0);
    expect(c.counts().outstanding).toBe(0);
  }, 30_000);

  test("close() ends what is outstanding with 'closed'; bad URLs are typed errors", async () => {
    const silent = await scripted(() => []);
    const c = new UdpTrackerClient({ retransmitBaseMs: 60_000 });
    const pending = failureOf(c.announce(silent.url, announce));
    while (silent.requests.length < 1) await Bun.sleep(5);
    c.close();
    expect((await pending).code).toBe("closed");
    const other = client({});
    for (const url of ["http://127.0.0.1:1/announce", "udp://127.0.0.1/announce", "udp://127.0.0.1:70000", "udp://:5/x"]) {
      expect((await failureOf(other.announce(url, announce))).code).toBe("bad-url");
    }
    expect((await failureOf(other.announce("udp://no-such-host.invalid:80/announce", announce))).code).toBe("unresolvable");
  }, 30_000);
});

test("over IPv6 an announce reply must carry 18-byte peers: a reply with 6-byte ones is refused, the right one taken", async () => {
  let t: ScriptedTracker;
  try {
    t = await startScriptedTracker("::1", (request) => {
      if (requestAction(request) === CONNECT) return [connectReply(request)];
      const reply = (peers: Uint8Array, family: 4 | 6) => ({
        bytes: encodeAnnounceResponse({ transactionId: requestTx(request), interval: 60, leechers: 0, seeders: 1, peers }, family),
      });
      const v6 = new Uint8Array(18);
      v6.set([0x20, 0x01, 0x0d, 0xb8], 0);
      v6.set([0x1a, 0xe1], 16);
      return [reply(Uint8Array.of(10, 0, 0, 1, 0x1a, 0xe1), 4), reply(v6, 6)];
    });
  } catch {
    return; // no IPv6 loopback here; the real-tracker tests say so
  }
  opened.push(t);
  const c = client({ retransmitBaseMs: NO_RETRANSMIT_MS });
  const reply = await c.announce(t.url, announce);
  expect(reply.peers).toEqual([{ ip: "2001:db8::", port: 6881 }]);
  expect(c.counts()).toMatchObject({ refused: 1, outstanding: 0 });
}, 30_000);
