// What the Redis store writes as text and reads back from Upstash's replies: a peer's address (stored as
// the hex of its compact form, since Upstash decodes replies as UTF-8, which would mangle raw bytes), the
// announce script's reply, and a count. A codec apart from the store's calls (upstash.ts).
import { fromHex, toHex } from "../../shared/bytes.ts";
import { decodeCompactPeers, encodeCompactPeer } from "../../shared/compact.ts";
import { StoreUnavailableError, type AnnounceResult, type SwarmPeer } from "./swarm-store.ts";

/** Peers are stored as text: Upstash replies are decoded as UTF-8, which would mangle raw bytes. */
export function addressToText(ip: string, port: number): string {
  return toHex(encodeCompactPeer({ ip, port }));
}

function textToAddress(text: string): { ip: string; port: number; compact: Uint8Array } | null {
  const compact = fromHex(text);
  if (!compact || (compact.length !== 6 && compact.length !== 18)) return null;
  const address = decodeCompactPeers(compact, compact.length === 6 ? 4 : 6)[0];
  return address ? { ...address, compact } : null;
}

/** The announce script's reply (announce-script.ts): a refusal, or the counts and the sampled peers. */
export function parseAnnounceReply(reply: unknown): AnnounceResult {
  if (Array.isArray(reply) && reply.length === 1 && (reply[0] === -1 || reply[0] === -2)) {
    return { complete: 0, incomplete: 0, downloaded: 0, peers: [], refused: reply[0] === -1 ? "unknown-passkey" : "not-allowed" };
  }
  if (!Array.isArray(reply) || reply.length < 3) {
    // Its shape only: the reply itself lists peers.
    const shape = Array.isArray(reply) ? `an array of ${reply.length}` : typeof reply;
    throw new StoreUnavailableError("bad-reply", `Redis gave an unexpected announce reply (${shape})`);
  }
  const peers: SwarmPeer[] = [];
  for (let i = 3; i + 1 < reply.length; i += 2) {
    // String(): the client's automatic JSON deserialisation turns an all-digit hex text into a number.
    const address = textToAddress(String(reply[i + 1]));
    if (address) peers.push({ peerId: String(reply[i]), ip: address.ip, port: address.port, compact: address.compact });
  }
  return { complete: toCount(reply[0]), incomplete: toCount(reply[1]), downloaded: toCount(reply[2]), peers };
}

/** A count in a reply: the client turns numeric replies into numbers, and an absent field is null. */
export function toCount(value: unknown): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}
