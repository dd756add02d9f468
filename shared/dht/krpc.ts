// KRPC (BEP 5) messages to and from bencoded bytes. Decoding is strict about what a node relies on (ids
// are 20 bytes, node lists whole entries, ports in range, echoed byte strings short) and lenient about
// the rest (unsorted keys, unknown keys, unknown `want` items), as replies from the wild need.
import { decode, encode, BencodeError, type BDict, type BEncodable, type BValue } from "../bencode.ts";
import { utf8 } from "../bytes.ts";
import { decodeCompactAddress, decodeNodes, encodeCompactAddress, encodeNodes } from "./compact-nodes.ts";
import { KrpcError } from "./errors.ts";
import {
  ID_BYTES,
  MAX_TOKEN_BYTES,
  MAX_TRANSACTION_ID_BYTES,
  type KrpcErrorMessage,
  type KrpcMessage,
  type KrpcQuery,
  type KrpcResponse,
  type Want,
} from "./types.ts";

/** Longest method name kept from an unknown query (it is only logged and answered with 204). */
const MAX_METHOD_NAME = 32;
/** Longest error message kept from an error reply. */
const MAX_ERROR_MESSAGE = 256;
/** KRPC nests no deeper than message > a/r > list (values, e, want). */
const MAX_DEPTH = 4;

export function decodeMessage(bytes: Uint8Array): KrpcMessage {
  let value: BValue;
  try {
    value = decode(bytes, { strictKeyOrder: false, maxDepth: MAX_DEPTH });
  } catch (error) {
    if (error instanceof BencodeError) throw new KrpcError("not-bencode", `not a bencoded message: ${error.message}`);
    throw error;
  }
  if (!isDict(value)) throw new KrpcError("not-a-dict", "a KRPC message is a dictionary");
  const t = value.t;
  const transactionId = t instanceof Uint8Array && t.length <= MAX_TRANSACTION_ID_BYTES ? t : undefined;
  const y = value.y;
  const kind = y instanceof Uint8Array && y.length === 1 ? String.fromCharCode(y[0]!) : "";
  const fail = (code: ConstructorParameters<typeof KrpcError>[0], message: string): never => {
    throw new KrpcError(code, message, transactionId, kind === "q");
  };
  if (!(t instanceof Uint8Array)) fail("missing-field", "no transaction id (t)");
  if (!transactionId) fail("bad-field", `transaction id longer than ${MAX_TRANSACTION_ID_BYTES} bytes`);
  const read = new Reader(fail);
  const common = {
    transactionId: transactionId!,
    ...(value.ro === 1 ? { readOnly: true } : {}),
    ...(value.v instanceof Uint8Array && value.v.length <= 16 ? { version: value.v } : {}),
  };
  switch (kind) {
    case "q":
      return decodeQuery(value, common, read);
    case "r":
      return decodeResponse(value, common, read);
    case "e":
      return decodeError(value, transactionId!, read);
    default:
      return fail("unknown-type", "message type (y) is not q, r or e");
  }
}

type Common = Pick<KrpcQuery, "transactionId" | "readOnly" | "version">;

function decodeQuery(msg: BDict, common: Common, read: Reader): KrpcQuery {
  const q = read.bytes(msg, "q", 1, MAX_METHOD_NAME);
  const args = read.dict(msg, "a");
  const base = { type: "query" as const, ...common, id: read.exact(args, "id", ID_BYTES) };
  const method = utf8.decode(q);
  switch (method) {
    case "ping":
      return { ...base, method };
    case "find_node":
      return { ...base, method, target: read.exact(args, "target", ID_BYTES), ...read.want(args) };
    case "get_peers":
      return { ...base, method, infoHash: read.exact(args, "info_hash", ID_BYTES), ...read.want(args) };
    case "announce_peer": {
      const impliedPort = args.implied_port !== undefined && args.implied_port !== 0;
      // With implied_port the sender's UDP port counts and `port` may be anything (uTP clients send 0).
      const port = impliedPort ? 0 : read.port(args, "port");
      return {
        ...base,
        method,
        infoHash: read.exact(args, "info_hash", ID_BYTES),
        port,
        impliedPort,
        token: read.bytes(args, "token", 0, MAX_TOKEN_BYTES),
      };
    }
    default:
      return { ...base, method: "other", name: method };
  }
}

function decodeResponse(msg: BDict, common: Common, read: Reader): KrpcResponse {
  const r = read.dict(msg, "r");
  const out: KrpcResponse = { type: "response", ...common, id: read.exact(r, "id", ID_BYTES) };
  if (r.nodes !== undefined) out.nodes = read.nodes(r, "nodes", 4);
  if (r.nodes6 !== undefined) out.nodes6 = read.nodes(r, "nodes6", 6);
  if (r.token !== undefined) out.token = read.bytes(r, "token", 0, MAX_TOKEN_BYTES);
  if (r.values !== undefined) {
    const values = r.values;
    if (!Array.isArray(values)) return read.fail("bad-field", "values is not a list");
    // An entry of another size is skipped, not fatal: the rest of the list is still good peers.
    out.values = [];
    for (const v of values) {
      const peer = v instanceof Uint8Array ? decodeCompactAddress(v) : null;
      if (peer) out.values.push(peer);
    }
  }
  const ip = msg.ip instanceof Uint8Array ? decodeCompactAddress(msg.ip) : null;
  if (ip) out.ip = ip;
  return out;
}

function decodeError(msg: BDict, transactionId: Uint8Array, read: Reader): KrpcErrorMessage {
  const e = msg.e;
  if (!Array.isArray(e) || typeof e[0] !== "number") return read.fail("bad-field", "error (e) is not a list starting with a code");
  const text = e[1] instanceof Uint8Array ? utf8.decode(e[1].subarray(0, MAX_ERROR_MESSAGE)) : "";
  const out: KrpcErrorMessage = { type: "error", transactionId, code: e[0], message: text };
  const ip = msg.ip instanceof Uint8Array ? decodeCompactAddress(msg.ip) : null;
  if (ip) out.ip = ip;
  return out;
}

class Reader {
  constructor(readonly fail: (code: "missing-field" | "bad-field" | "not-a-dict", message: string) => never) {}

  dict(d: BDict, key: string): BDict {
    const v = d[key];
    if (v === undefined) return this.fail("missing-field", `no ${key}`);
    if (!isDict(v)) return this.fail("not-a-dict", `${key} is not a dictionary`);
    return v;
  }

  bytes(d: BDict, key: string, min: number, max: number): Uint8Array {
    const v = d[key];
    if (v === undefined) return this.fail("missing-field", `no ${key}`);
    if (!(v instanceof Uint8Array) || v.length < min || v.length > max) return this.fail("bad-field", `${key} is not a byte string of ${min}-${max} bytes`);
    return v;
  }

  exact(d: BDict, key: string, size: number): Uint8Array {
    return this.bytes(d, key, size, size);
  }

  port(d: BDict, key: string): number {
    const v = d[key];
    if (v === undefined) return this.fail("missing-field", `no ${key}`);
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 65535) return this.fail("bad-field", `${key} is not 1-65535`);
    return v;
  }

  nodes(d: BDict, key: string, family: 4 | 6) {
    const v = d[key];
    if (!(v instanceof Uint8Array)) return this.fail("bad-field", `${key} is not a byte string`);
    try {
      return decodeNodes(v, family);
    } catch (error) {
      if (error instanceof KrpcError) return this.fail("bad-field", error.message);
      throw error;
    }
  }

  want(d: BDict): { want?: Want } {
    const v = d.want;
    if (v === undefined) return {};
    if (!Array.isArray(v)) return this.fail("bad-field", "want is not a list");
    const want: ("n4" | "n6")[] = [];
    for (const item of v) {
      if (!(item instanceof Uint8Array) || item.length !== 2 || item[0] !== 0x6e) continue;
      if (item[1] === 0x34 && !want.includes("n4")) want.push("n4");
      if (item[1] === 0x36 && !want.includes("n6")) want.push("n6");
    }
    return { want };
  }
}

function isDict(v: BValue | undefined): v is BDict {
  return typeof v === "object" && v !== null && !(v instanceof Uint8Array) && !Array.isArray(v);
}

// --- encoding ---------------------------------------------------------------------------------------

export function encodeMessage(msg: KrpcMessage): Uint8Array {
  if (msg.transactionId.length > MAX_TRANSACTION_ID_BYTES) throw new KrpcError("not-encodable", "transaction id too long");
  const top: Record<string, BEncodable | undefined> = {
    t: msg.transactionId,
    y: msg.type === "query" ? "q" : msg.type === "response" ? "r" : "e",
  };
  if (msg.type !== "error") {
    if (msg.id.length !== ID_BYTES) throw new KrpcError("not-encodable", `a node id is 20 bytes, got ${msg.id.length}`);
    if (msg.readOnly) top.ro = 1;
    if (msg.version) top.v = msg.version;
  }
  if (msg.type === "query") {
    top.q = msg.method === "other" ? msg.name : msg.method;
    top.a = queryArgs(msg);
  } else if (msg.type === "response") {
    top.r = {
      id: msg.id,
      nodes: msg.nodes && encodeNodes(msg.nodes, 4),
      nodes6: msg.nodes6 && encodeNodes(msg.nodes6, 6),
      token: msg.token,
      values: msg.values?.map(encodeCompactAddress),
    };
    if (msg.ip) top.ip = encodeCompactAddress(msg.ip);
  } else {
    top.e = [msg.code, msg.message];
    if (msg.ip) top.ip = encodeCompactAddress(msg.ip);
  }
  return encode(top);
}

function queryArgs(q: KrpcQuery): Record<string, BEncodable | undefined> {
  const sized = (v: Uint8Array, name: string) => {
    if (v.length !== ID_BYTES) throw new KrpcError("not-encodable", `${name} is 20 bytes, got ${v.length}`);
    return v;
  };
  switch (q.method) {
    case "ping":
    case "other":
      return { id: q.id };
    case "find_node":
      return { id: q.id, target: sized(q.target, "target"), want: q.want && [...q.want] };
    case "get_peers":
      return { id: q.id, info_hash: sized(q.infoHash, "info_hash"), want: q.want && [...q.want] };
    case "announce_peer":
      if (!q.impliedPort && !(Number.isInteger(q.port) && q.port >= 1 && q.port <= 65535)) {
        throw new KrpcError("not-encodable", `port ${q.port} is not 1-65535`);
      }
      return {
        id: q.id,
        info_hash: sized(q.infoHash, "info_hash"),
        port: q.impliedPort ? Math.max(0, Math.min(65535, q.port | 0)) : q.port,
        implied_port: q.impliedPort ? 1 : undefined,
        token: q.token,
      };
  }
}
