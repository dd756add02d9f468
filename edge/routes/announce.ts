// GET /announce (BEP 3, with compact peers of BEP 23 and IPv6 peers of BEP 7).
import type { Context } from "hono";
import { encode, type BEncodable } from "../../shared/bencode.ts";
import { fromHex } from "../../shared/bytes.ts";
import { encodeCompactPeer } from "../../shared/compact.ts";
import type { AnnounceEvent, AnnounceInput, SwarmPeer, SwarmStore } from "../store/swarm-store.ts";
import { announcePeer, announcePeerInto, announcePeerNow, type AnnounceOutcome, type BytesAnnounceFields, nextInterval } from "../announce-core.ts";
import { resolveClientIp } from "../client-ip.ts";
import { TrackerError } from "../errors.ts";
import { readCount, readId, readIdInto, readKey, readPort } from "../params.ts";
import type { RawQuery } from "../query.ts";
import { bencodeOk, type TrackerContext } from "./common.ts";
import { compactReply } from "./compact-reply.ts";

/** The event an `event` value names, or undefined. A switch, not an object's keys: "toString" is no event. */
function announceEvent(text: string): AnnounceEvent | undefined {
  switch (text) {
    case "":
    // BEP 21: a partial seed that stopped downloading; tracked like a regular announce.
    case "paused":
      return "";
    case "started":
    case "completed":
    case "stopped":
      return text;
    default:
      return undefined;
  }
}

/** The `event` values announceEvent knows, for RawQuery.plainChoice. */
const EVENT_TEXTS: readonly string[] = ["started", "completed", "stopped", "paused", ""];

export interface AnnounceRequest {
  input: Omit<AnnounceInput, "now" | "peerTtlMs">;
  compact: boolean;
  noPeerId: boolean;
}

export function parseAnnounce(query: RawQuery, ip: string, maxNumwant: number, defaultNumwant: number): AnnounceRequest {
  const infoHash = readId(query, "info_hash");
  const peerId = readId(query, "peer_id");
  const input = {
    infoHash,
    peerId,
    ip,
    port: 0,
    left: 0,
    event: "" as AnnounceEvent,
    numwant: 0,
    key: undefined as string | undefined,
    uploaded: 0 as number | undefined,
    downloaded: 0 as number | undefined,
    compactOnly: false,
  };
  const compact = readFields(query, maxNumwant, defaultNumwant, input);
  input.compactOnly = compact;
  return { input, compact, noPeerId: query.text("no_peer_id") === "1" };
}

/** The announce's fields other than its ids, set on `into`. */
interface AnnounceFields {
  port: number;
  left: number;
  event: AnnounceEvent;
  numwant: number;
  key?: string | number;
  uploaded?: number;
  downloaded?: number;
}

/**
 * Reads and checks the fields after the ids into `into`, in the one order both announce paths
 * follow (so a request with several faults fails with the same error either way); returns whether
 * the client takes a compact reply.
 */
function readFields(query: RawQuery, maxNumwant: number, defaultNumwant: number, into: AnnounceFields): boolean {
  into.port = readPort(query);
  into.uploaded = readCount(query, "uploaded", false);
  into.downloaded = readCount(query, "downloaded", false);
  into.left = readCount(query, "left", true)!;
  // The events as sent (nearly always) are recognised in place: no string made per announce.
  const known = query.plainChoice("event", EVENT_TEXTS);
  const eventText = known >= 0 ? EVENT_TEXTS[known]! : (query.text("event") ?? "");
  const event = announceEvent(eventText);
  if (event === undefined) {
    throw new TrackerError("bad-param", `event must be started, completed, stopped or empty, got "${eventText.slice(0, 32)}"`);
  }
  into.event = event;
  const wanted = readCount(query, "numwant", false) ?? defaultNumwant;
  const compact = query.text("compact") !== "0";
  into.numwant = event === "stopped" ? 0 : Math.min(wanted, maxNumwant);
  into.key = readKey(query);
  return compact;
}

/** `passkey`: from the path `/<passkey>/announce`. */
export function handleAnnounce(c: Context, query: RawQuery, t: TrackerContext, passkey?: string): Response | Promise<Response> {
  const ip = resolveClientIp(
    query,
    t.config,
    (name) => c.req.header(name),
    () => t.clientIp(c),
  );
  return answerAnnounce(query, ip, t, passkey);
}

/**
 * The announce of a requester whose address is known: validation, the store, the bencoded reply.
 * A store in this process answers at once, and so does this (a Response, no promise); a failure is
 * then thrown here, as it is for a bad query either way.
 */
export function answerAnnounce(query: RawQuery, ip: string, t: Omit<TrackerContext, "clientIp">, passkey?: string): Response | Promise<Response> {
  if (passkey === undefined && query.text("compact") !== "0" && writesInto(t)) return bencodeOk(answerInto(query, ip, t));
  const req = parseAnnounce(query, ip, t.config.maxNumwant, t.config.defaultNumwant);
  const input = passkey === undefined ? req.input : { ...req.input, passkey };
  const now = announcePeerNow(t, input);
  return now !== null ? announceReply(req, now, t) : announcePeer(t, input).then((outcome) => announceReply(req, outcome, t));
}

/**
 * answerAnnounce without a passkey, for a server that writes its own HTTP (adapter/ffi-http-server.ts):
 * the reply most announces get (compact, from the memory store) as its body's bytes, no Response made;
 * any other reply as answerAnnounce gives it.
 */
export function answerAnnounceBody(query: RawQuery, ip: string, t: Omit<TrackerContext, "clientIp">): Uint8Array | Response | Promise<Response> {
  if (query.text("compact") !== "0" && writesInto(t)) return answerInto(query, ip, t);
  return answerAnnounce(query, ip, t);
}

/** Whether the store takes announces with byte ids and writes the sample into a buffer (announceInto). */
function writesInto(t: Omit<TrackerContext, "clientIp">): boolean {
  let store: SwarmStore;
  try {
    store = t.requireStore();
  } catch {
    // No store: the general path refuses the announce, after the same parameter checks.
    return false;
  }
  return store.announceInto !== undefined;
}

/** The ids of the announce answerInto is handling: the info hash, then the peer id. */
const IDS = new Uint8Array(40);
const INFO_HASH = IDS.subarray(0, 20);
const PEER_ID = IDS.subarray(20, 40);

/** answerInto's store call, reused: the store reads it during the call and keeps nothing of it. */
const CALL: BytesAnnounceFields = {
  ids: IDS,
  idsAt: 0,
  ip: "",
  port: 0,
  left: 0,
  event: "",
  numwant: 0,
  key: undefined,
  uploaded: undefined,
  downloaded: undefined,
  family: "both",
  v6At: 0,
};

/** `peers6` of a reply without IPv6 peers: empty, so nothing can be written into it. */
const NO_V6 = new Uint8Array(0);

/** Where the sample's compact forms are written: IPv4 ones from 0, IPv6 ones from CALL.v6At. Grown to the configured numwant. */
let samples = new Uint8Array(0);

/**
 * A compact announce to a store that writes the sample into a buffer (the memory store): the ids go
 * from the URL into bytes and the peers from the store into a reused buffer, so no hex id, input,
 * result or peer list is made per announce; only the reply's bytes. The same checks and failures as
 * the general path, in the same order.
 */
function answerInto(query: RawQuery, ip: string, t: Omit<TrackerContext, "clientIp">): Uint8Array {
  const { config } = t;
  readIdInto(query, "info_hash", INFO_HASH);
  readIdInto(query, "peer_id", PEER_ID);
  const call = CALL;
  readFields(query, config.maxNumwant, config.defaultNumwant, call);
  call.ip = ip;
  const v6At = config.maxNumwant * 6;
  if (samples.length < v6At + config.maxNumwant * 18) samples = new Uint8Array(v6At + config.maxNumwant * 18);
  call.v6At = v6At;
  const result = announcePeerInto(t, call, samples, 0)!;
  const v4 = samples.subarray(0, result.written * 6);
  // Nearly every reply has no IPv6 peer: one shared empty array rather than a view made per announce.
  const v6 = result.written6 === 0 ? NO_V6 : samples.subarray(v6At, v6At + result.written6 * 18);
  return compactReply(result, nextInterval(config), config.minIntervalSec, v4, v6, t.warning);
}

function announceReply(req: AnnounceRequest, { result, interval }: AnnounceOutcome, t: Omit<TrackerContext, "clientIp">): Response {
  const { config } = t;
  // Stores leave the requester out (SwarmStore contract, checked by the conformance suite): checking
  // again here would read every sampled peer's id from memory, a cache miss each in a large swarm.
  const peers = result.peers;
  if (req.compact) {
    const { v4, v6 } = result.compact ?? compactPeers(peers);
    return bencodeOk(compactReply(result, interval, config.minIntervalSec, v4, v6, t.warning));
  }
  const reply: Record<string, BEncodable | undefined> = {
    interval,
    "min interval": config.minIntervalSec,
    complete: result.complete,
    incomplete: result.incomplete,
    downloaded: result.downloaded,
    "warning message": t.warning,
    peers: dictPeers(peers, req.noPeerId),
  };
  return bencodeOk(encode(reply));
}

/**
 * `peers` (6 bytes each) and `peers6` (18 bytes each), using the store's compact forms where given.
 * Bytes are copied by plain loops: a native `set` call costs more than moving 6 bytes.
 */
function compactPeers(peers: SwarmPeer[]): { v4: Uint8Array; v6: Uint8Array } {
  const forms: Uint8Array[] = new Array(peers.length);
  let n4 = 0;
  for (let i = 0; i < peers.length; i++) {
    const p = peers[i]!;
    const f = p.compact ?? encodeCompactPeer(p);
    forms[i] = f;
    if (f.length === 6) n4++;
  }
  const v4 = new Uint8Array(n4 * 6);
  const v6 = new Uint8Array((peers.length - n4) * 18);
  let at4 = 0;
  let at6 = 0;
  for (const f of forms) {
    if (f.length === 6) {
      for (let i = 0; i < 6; i++) v4[at4++] = f[i]!;
    } else {
      for (let i = 0; i < 18; i++) v6[at6++] = f[i]!;
    }
  }
  return { v4, v6 };
}

function dictPeers(peers: SwarmPeer[], noPeerId: boolean): BEncodable[] {
  return peers.map((p) => ({ ip: p.ip, port: p.port, "peer id": noPeerId ? undefined : (fromHex(p.peerId) ?? undefined) }));
}
