// Fuzz: the extension handshake codec (shared/wire/extension.ts). Every payload either decodes into a
// well-formed ExtensionHandshake (ids 1..255, fields of their types and ranges) or throws a WireError
// `bad-extension`; nothing else escapes, and what decodes encodes and decodes again to the same value.
import { expect, test } from "bun:test";
import { encode } from "../../shared/bencode.ts";
import { decodeExtensionHandshake, encodeExtensionHandshake, type ExtensionHandshake } from "../../shared/wire/extension.ts";
import { WireError } from "../../shared/wire/errors.ts";
import { BENCODE_TOKENS } from "./corpus.ts";
import { fuzzSettings, fuzzTimeout, Mutator, runFuzz } from "./fuzz-kit.ts";

const settings = fuzzSettings(4000);

const seeds = [
  encodeExtensionHandshake({
    m: new Map([
      ["ut_metadata", 3],
      ["ut_pex", 1],
      ["lt_donthave", 7],
    ]),
    port: 6881,
    client: "libtorrent/2.0",
    reqq: 500,
    metadataSize: 31_337,
  }),
  encodeExtensionHandshake({ m: new Map(), yourIp: new Uint8Array([127, 0, 0, 1]), ipv6: new Uint8Array(16).fill(1), ipv4: new Uint8Array([10, 0, 0, 1]) }),
  encode({ m: { ut_metadata: 0, ut_pex: 2 }, e: 1, upload_only: 1, complete_ago: 5 }),
];

function checkWellFormed(h: ExtensionHandshake): void {
  for (const [name, id] of h.m) if (typeof name !== "string" || !Number.isInteger(id) || id < 1 || id > 255) throw new Error(`bad m entry ${name}=${id}`);
  if (h.port !== undefined && !(h.port >= 1 && h.port <= 65535)) throw new Error(`bad port ${h.port}`);
  if (h.reqq !== undefined && !(h.reqq >= 1)) throw new Error(`bad reqq ${h.reqq}`);
  if (h.metadataSize !== undefined && !(h.metadataSize >= 1)) throw new Error(`bad metadata size ${h.metadataSize}`);
  if (h.yourIp && h.yourIp.length !== 4 && h.yourIp.length !== 16) throw new Error("bad yourip");
}

test(
  `fuzz: extension handshakes decode to well-formed values or a bad-extension WireError (${settings.cases} cases)`,
  async () => {
    const mutator = new Mutator(seeds, BENCODE_TOKENS);
    await runFuzz(
      "extension-handshake",
      settings,
      (rng) => mutator.next(rng),
      (input) => {
        let decoded: ExtensionHandshake;
        try {
          decoded = decodeExtensionHandshake(input);
        } catch (error) {
          if (error instanceof WireError && error.code === "bad-extension") return;
          throw error;
        }
        checkWellFormed(decoded);
        // Encoding sorts keys (canonical bencode), so compare the names in sorted order.
        const sorted = (h: ExtensionHandshake) => ({ ...h, m: [...h.m].sort(), disabled: h.disabled && [...h.disabled].sort() });
        expect(sorted(decodeExtensionHandshake(encodeExtensionHandshake(decoded)))).toEqual(sorted(decoded));
      },
    );
  },
  fuzzTimeout(settings),
);
