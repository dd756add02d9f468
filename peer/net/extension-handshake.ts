// Our side of the extension protocol (BEP 10): what we tell peers in our extension handshake. The
// handshake's codec is shared/wire/extension.ts; extensions we speak get their names and ids here.
import { encodeExtensionHandshake } from "../../shared/wire/extension.ts";
import { UT_PEX } from "../../shared/wire/ut-pex.ts";

/** How many requests we accept queued from one peer; anything beyond is dropped (libtorrent does the same). */
export const OUR_REQQ = 500;

const CLIENT = "btpeer 0.1.0";

/** The extended message id we receive ut_pex (BEP 11) on. */
export const UT_PEX_ID = 1;

/** The extensions we receive, by name, with the extended id we want each on. */
export const OUR_EXTENSIONS: ReadonlyMap<string, number> = new Map([[UT_PEX, UT_PEX_ID]]);

/** BEP 27: a private torrent's peers come from its tracker alone, so it speaks no peer exchange. */
export const PRIVATE_EXTENSIONS: ReadonlyMap<string, number> = new Map();

/** Our extension handshake payload (after the extended id 0). */
export function ourExtensionHandshake(
  listenPort: number,
  extensions: { m: ReadonlyMap<string, number>; metadataSize?: number } = { m: OUR_EXTENSIONS },
): Uint8Array {
  return encodeExtensionHandshake({ ...extensions, reqq: OUR_REQQ, client: CLIENT, ...(listenPort > 0 ? { port: listenPort } : {}) });
}
