// Our side of the extension protocol (BEP 10): what we tell peers in our extension handshake. The
// handshake's codec is shared/wire/extension.ts; extensions we speak get their names and ids here.
import { encodeExtensionHandshake } from "../../shared/wire/extension.ts";
import { UT_PEX } from "../../shared/wire/ut-pex.ts";
import { UT_METADATA } from "../../shared/wire/ut-metadata.ts";

/**
 * How many requests we queue for one peer before dropping (or, for a fast peer, rejecting) more. Some
 * clients ignore `reqq` (rtorrent keeps about 3,000 out at 300 MB/s) and wait forever for a request
 * dropped in silence. 16,384 requests are 256 MiB asked for; the queue grows only as used, at 12 bytes a
 * request.
 */
export const MAX_QUEUED_REQUESTS = 16_384;

/**
 * The queue depth we advertise (`reqq`); we still queue up to MAX_QUEUED_REQUESTS for clients that ignore
 * it. Clients that honour it are bound by it, two ways. Transmission tops its requests up to min(rate ×
 * 10 s, reqq) in waves, so it gets about reqq × 16 KiB a second (10 MB/s from us with 500; libtorrent's
 * seeder says 2,000). libtorrent takes it as its queue to us outright, and at loopback rates keeps it
 * full: each block it receives costs it a search of that queue and an erase from its front, so with
 * 16,384 a libtorrent leecher spent a quarter more CPU per GiB than from a libtorrent seeder, and was
 * slower for it. 4,096 gives Transmission twice what libtorrent's seeder does, at little cost to libtorrent.
 */
export const OUR_REQQ = 4096;

/**
 * The longest request we serve, and ask of peers that serve as much (ExtensionHandshake.maxRequest): 8
 * blocks. BEP 3 fixed requests at 16 KiB, and mainstream clients close a connection that asks for more, so
 * only peers that advertise it get requests this long. Per byte, a 128 KiB request costs the seeder an
 * eighth of the request parsing, header writes and splices, and the leecher an eighth of the requests and
 * piece headers: in 1 GiB btpeer → btpeer transfers on a quiet host the seeder's CPU per GiB went from 0.33 to
 * 0.24 s and the machine's from 1.55 to 1.42 (8 alternated pairs, issue 16).
 * Blocks stay 16 KiB inside (picker, pool slots, end game): a long piece message is read as its blocks.
 */
export const OUR_MAX_REQUEST = 128 * 1024;

const CLIENT = "btpeer 0.1.0";

/** The extended message id we receive ut_pex (BEP 11) on. */
export const UT_PEX_ID = 1;

/** The extended id we receive ut_metadata (BEP 9) messages on. */
export const UT_METADATA_ID = 2;

/**
 * The extensions we receive, by name, with the extended id we want each on. Every connection names them
 * all in its first handshake, even before we can serve them (a magnet's metadata phase): libtorrent keeps
 * only the extensions of a peer's first handshake.
 */
export const OUR_EXTENSIONS: ReadonlyMap<string, number> = new Map([
  [UT_PEX, UT_PEX_ID],
  [UT_METADATA, UT_METADATA_ID],
]);

/** BEP 27: a private torrent's peers come from its tracker alone, so it speaks no peer exchange (its metadata it still serves). */
export const PRIVATE_EXTENSIONS: ReadonlyMap<string, number> = new Map([[UT_METADATA, UT_METADATA_ID]]);

/** Our extension handshake payload (after the extended id 0). */
export function ourExtensionHandshake(
  listenPort: number,
  extensions: { m: ReadonlyMap<string, number>; metadataSize?: number } = { m: OUR_EXTENSIONS },
): Uint8Array {
  return encodeExtensionHandshake({
    ...extensions,
    reqq: OUR_REQQ,
    maxRequest: OUR_MAX_REQUEST,
    client: CLIENT,
    ...(listenPort > 0 ? { port: listenPort } : {}),
  });
}
