// GET /scrape (BEP 48): counts for one or many info hashes; a full scrape only when enabled.
import type { Context } from "hono";
import { DictShape } from "../../shared/bencode-writer.ts";
import { concatBytes, fromHex, toBinaryString, utf8 } from "../../shared/bytes.ts";
import { scrapeCounts } from "../announce-core.ts";
import { TrackerError } from "../errors.ts";
import { idToHex } from "../params.ts";
import type { RawQuery } from "../query.ts";
import type { SwarmCounts } from "../store/swarm-store.ts";
import { bencodeReply, callStore, type TrackerContext } from "./common.ts";

/** `passkey`: from the path `/<passkey>/scrape`. */
export async function handleScrape(c: Context, query: RawQuery, t: TrackerContext, passkey?: string): Promise<Response> {
  const { config } = t;
  const raw = query.all("info_hash");
  if (raw.length === 0) {
    // A private tracker never lists its catalogue.
    if (!config.fullScrape || config.privateMode || passkey !== undefined)
      throw new TrackerError("full-scrape-disabled", "scrape needs at least one info_hash; full scrape is disabled");
    const store = t.requireStore();
    if (!store.listSwarms) throw new TrackerError("full-scrape-disabled", "this tracker's store cannot list every torrent");
    const list = store.listSwarms;
    const all = await callStore(t, "full scrape", () => list.call(store, Date.now(), config.maxScrapeHashes));
    return bencodeReply(c, encodeScrape(all.map(([hash, counts]) => [fromHex(hash)!, counts])), 200);
  }
  if (raw.length > config.maxScrapeHashes) {
    throw new TrackerError("too-many-hashes", `at most ${config.maxScrapeHashes} info_hash values per scrape, got ${raw.length}`);
  }
  const hashes = [...new Set(raw.map((b) => idToHex(b, "info_hash")))];
  const counts = await scrapeCounts(t, hashes, passkey);
  const served: [Uint8Array, SwarmCounts][] = [];
  // A private tracker leaves out the torrents it does not serve.
  hashes.forEach((hash, i) => {
    const found = counts[i];
    if (found) served.push([fromHex(hash)!, found]);
  });
  return bencodeReply(c, encodeScrape(served), 200);
}

/** One torrent's counts in a scrape reply, written without the generic encoder. */
const COUNTS = new DictShape<keyof SwarmCounts>(["complete", "downloaded", "incomplete"]);

/**
 * `d5:filesd<20-byte hash><counts>...ee`. The keys of `files` are raw binary hashes, which a
 * text-keyed dictionary cannot carry, so the dictionary is joined here from encoded parts, keys
 * sorted by raw bytes as bencode requires.
 */
function encodeScrape(entries: [Uint8Array, SwarmCounts][]): Uint8Array {
  entries.sort(([a], [b]) => (toBinaryString(a) < toBinaryString(b) ? -1 : 1));
  const parts: Uint8Array[] = [utf8.encode("d5:filesd")];
  for (const [hash, counts] of entries) {
    parts.push(utf8.encode(`${hash.length}:`), hash, COUNTS.encode(counts));
  }
  parts.push(utf8.encode("ee"));
  return concatBytes(parts);
}
