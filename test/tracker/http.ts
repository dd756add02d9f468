// A tiny tracker client for the conformance suite: builds announce/scrape URLs from raw bytes and
// decodes replies with the project's own bencode and compact-peer codecs.
import { decode, decodeDict, type BDict, type BValue } from "../../shared/bencode.ts";
import { decodeCompactPeers, type PeerAddress } from "../../shared/compact.ts";
import { toHex } from "../../shared/bytes.ts";

/** Every byte escaped (upper-case hex), the strictest form a client can send. */
export function escapeAll(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  return out;
}

/** 20 random bytes that are never valid UTF-8 (0xff first), so a UTF-8 decoding tracker would corrupt them. */
export function randomId(): Uint8Array {
  const id = crypto.getRandomValues(new Uint8Array(20));
  id[0] = 0xff;
  id[1] = 0x00;
  return id;
}

export interface AnnounceParams {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  port: number;
  left: number;
  event?: "started" | "completed" | "stopped";
  numwant?: number;
  compact?: 0 | 1;
  noPeerId?: boolean;
  /** The `key` parameter: a secret the client sends to prove it is the same peer across address changes. */
  key?: string;
  /** Totals reported (default 0). */
  uploaded?: number;
  downloaded?: number;
}

export function announceQuery(p: AnnounceParams): string {
  let q = `info_hash=${escapeAll(p.infoHash)}&peer_id=${escapeAll(p.peerId)}&port=${p.port}&uploaded=${p.uploaded ?? 0}&downloaded=${p.downloaded ?? 0}&left=${p.left}`;
  if (p.event) q += `&event=${p.event}`;
  if (p.numwant !== undefined) q += `&numwant=${p.numwant}`;
  if (p.compact !== undefined) q += `&compact=${p.compact}`;
  if (p.noPeerId) q += `&no_peer_id=1`;
  if (p.key !== undefined) q += `&key=${encodeURIComponent(p.key)}`;
  return q;
}

export interface Reply {
  status: number;
  contentType: string | null;
  body: Uint8Array;
  dict: BDict;
}

export async function get(url: string, init?: RequestInit): Promise<Reply> {
  const res = await fetch(url, init);
  const body = new Uint8Array(await res.arrayBuffer());
  const value: BValue = decode(body);
  if (typeof value !== "object" || value instanceof Uint8Array || Array.isArray(value)) {
    throw new Error(`tracker reply is not a bencoded dictionary: ${new TextDecoder().decode(body).slice(0, 200)}`);
  }
  return { status: res.status, contentType: res.headers.get("content-type"), body, dict: value };
}

export async function announce(base: string, p: AnnounceParams): Promise<Reply> {
  const reply = await get(`${base}/announce?${announceQuery(p)}`);
  const failure = reply.dict["failure reason"];
  if (failure !== undefined) throw new Error(`announce failed: ${new TextDecoder().decode(failure as Uint8Array)}`);
  return reply;
}

export function text(value: BValue | undefined): string {
  if (!(value instanceof Uint8Array)) throw new Error(`expected a byte string, got ${JSON.stringify(value)}`);
  return new TextDecoder().decode(value);
}

export function num(value: BValue | undefined): number {
  if (typeof value !== "number") throw new Error(`expected an integer, got ${JSON.stringify(value)}`);
  return value;
}

/** Compact `peers` (IPv4) and `peers6` (IPv6) of an announce reply. */
export function compactPeers(dict: BDict): { v4: PeerAddress[]; v6: PeerAddress[] } {
  const v4 = dict.peers;
  const v6 = dict.peers6;
  if (!(v4 instanceof Uint8Array)) throw new Error(`peers is not a compact string: ${JSON.stringify(v4)}`);
  return { v4: decodeCompactPeers(v4, 4), v6: v6 instanceof Uint8Array ? decodeCompactPeers(v6, 6) : [] };
}

export interface DictPeer {
  ip: string;
  port: number;
  peerId: Uint8Array | undefined;
}

export function dictPeers(dict: BDict): DictPeer[] {
  const list = dict.peers;
  if (!Array.isArray(list)) throw new Error(`peers is not a list: ${JSON.stringify(list)}`);
  return list.map((entry) => {
    const d = entry as BDict;
    const id = d["peer id"];
    return { ip: text(d.ip), port: num(d.port), peerId: id instanceof Uint8Array ? id : undefined };
  });
}

export interface ScrapeFile {
  complete: number;
  incomplete: number;
  downloaded: number;
}

/** Scrape reply `files`, keyed by the hex of each raw 20-byte key as it stands in the reply. */
export function scrapeFiles(body: Uint8Array): Map<string, ScrapeFile> {
  const outer = decodeDict(body);
  const files = outer.entries.find((e) => new TextDecoder().decode(e.key) === "files");
  if (!files) throw new Error(`scrape reply has no files: ${new TextDecoder().decode(body).slice(0, 200)}`);
  const inner = decodeDict(body.subarray(files.start, files.end));
  const out = new Map<string, ScrapeFile>();
  for (const e of inner.entries) {
    const d = decode(body.subarray(files.start + e.start, files.start + e.end)) as BDict;
    out.set(toHex(e.key), { complete: num(d.complete), incomplete: num(d.incomplete), downloaded: num(d.downloaded) });
  }
  return out;
}
