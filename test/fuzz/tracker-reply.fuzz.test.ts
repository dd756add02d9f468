// Fuzz: btpeer's reading of an HTTP tracker's announce reply (peer/tracker-reply.ts), from replies our
// own tracker app writes, mutated. The reply is what any tracker on the network may send: it gives
// peers with a port in 1..65535 and an interval btpeer can wait on (whole seconds, at least 5, and
// within what a timer holds: a longer one fires at once), or a TrackerError; nothing else.
import { expect, test } from "bun:test";
import { createApp } from "../../edge/app.ts";
import { loadConfig } from "../../edge/config.ts";
import { MemorySwarmStore } from "../../edge/store/memory.ts";
import { readAnnounceReply, TrackerError } from "../../peer/tracker/tracker-reply.ts";
import { encode } from "../../shared/bencode.ts";
import { BENCODE_TOKENS, escapeAll } from "./corpus.ts";
import { fuzzSettings, fuzzTimeout, Mutator, Rng, runFuzz } from "./fuzz-kit.ts";
import { mutateTree } from "./tree-mutator.ts";

const settings = fuzzSettings(3000);
/** Longest delay setTimeout keeps (2^31 - 1 ms); beyond it the timer fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Replies from the tracker app to real announces: compact with IPv4 and IPv6 peers, the peer list form, a failure. */
async function replyCorpus(): Promise<Uint8Array[]> {
  let ip = "";
  const app = createApp({ store: new MemorySwarmStore(), config: loadConfig({}), clientIp: () => ip, warning: "fuzz warning" });
  const rng = new Rng(7);
  const hash = escapeAll(rng.bytes(20));
  const announce = async (from: string, extra = "") => {
    ip = from;
    const res = await app.request(`http://tracker.test/announce?info_hash=${hash}&peer_id=${escapeAll(rng.bytes(20))}&port=6881&left=100${extra}`);
    return new Uint8Array(await res.arrayBuffer());
  };
  for (const from of ["10.0.0.1", "10.0.0.2", "2001:db8::1", "2001:db8::2"]) await announce(from);
  return [
    await announce("10.0.0.3"),
    await announce("10.0.0.4", "&compact=0"),
    await announce("10.0.0.5", "&compact=0&no_peer_id=1"),
    new Uint8Array(await (await app.request("http://tracker.test/announce?info_hash=short")).arrayBuffer()),
    encode({ interval: 60, peers: [{ ip: "tracker.example", port: 1 }] }),
  ];
}

function checkOne(input: Uint8Array): void {
  let result: ReturnType<typeof readAnnounceReply>;
  try {
    result = readAnnounceReply("http://tracker.test/announce", 200, input);
  } catch (error) {
    if (error instanceof TrackerError && (error.code === "failure" || error.code === "bad-response") && error.message !== "") return;
    throw new Error(`threw something other than a TrackerError: ${String(error)}`, { cause: error });
  }
  const { interval, peers } = result;
  if (!Number.isSafeInteger(interval) || interval < 5 || interval * 1000 > MAX_TIMER_MS) {
    throw new Error(`an interval of ${interval} s: btpeer cannot wait that long on a timer (it would re-announce at once)`);
  }
  for (const p of peers) {
    if (typeof p.ip !== "string" || p.ip === "" || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new Error(`a peer ${p.ip}:${p.port}`);
  }
}

test(
  "tracker reply: every mutated reply gives dialable peers and a usable interval, or a TrackerError",
  async () => {
    const corpus = await replyCorpus();
    expect(readAnnounceReply("t", 200, corpus[0]!).peers.length).toBeGreaterThanOrEqual(4);
    const bytes = new Mutator(corpus, BENCODE_TOKENS);
    const generate = (rng: Rng) => (rng.chance(0.5) ? bytes.next(rng) : mutateTree(rng.pick(corpus), rng));
    await runFuzz("tracker reply", settings, generate, checkOne);
  },
  fuzzTimeout(settings),
);
