// Asks an HTTP tracker what it knows of one swarm (a BEP 48 scrape), decoded with our own bencode codec:
// how tests see what a peer announced (`started` counts it, `stopped` takes it out).
import { decode, type BDict } from "../../shared/bencode.ts";

export interface SwarmCounts {
  complete: number;
  incomplete: number;
}

/** `announce` is the tracker's announce URL; its scrape URL is derived as BEP 48 says. */
export async function scrape(announce: string, infoHash: Uint8Array): Promise<SwarmCounts> {
  let escaped = "";
  for (const b of infoHash) escaped += `%${b.toString(16).padStart(2, "0")}`;
  const url = `${announce.replace(/\/announce$/, "/scrape")}?info_hash=${escaped}`;
  const body = decode(new Uint8Array(await (await fetch(url)).arrayBuffer())) as BDict;
  const files = body.files as BDict;
  const entry = Object.values(files)[0] as BDict | undefined;
  return { complete: Number(entry?.complete ?? 0), incomplete: Number(entry?.incomplete ?? 0) };
}

/** Polls until `want` holds of the swarm's counts; returns the last counts either way. */
export async function scrapeUntil(announce: string, infoHash: Uint8Array, want: (c: SwarmCounts) => boolean, timeoutMs = 20_000): Promise<SwarmCounts> {
  const end = Date.now() + timeoutMs;
  let counts = await scrape(announce, infoHash);
  while (!want(counts) && Date.now() < end) {
    await Bun.sleep(100);
    counts = await scrape(announce, infoHash);
  }
  return counts;
}
