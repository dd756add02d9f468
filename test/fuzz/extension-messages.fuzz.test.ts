// Fuzz: the ut_metadata (BEP 9) and ut_pex (BEP 11) codecs. Every payload either decodes into a
// well-formed message or throws a WireError `bad-extension`; nothing else escapes, a decoded message
// stays within its bounds (a data piece fits its total size, a pex list its cap), and what decodes
// encodes and decodes again to the same value.
import { expect, test } from "bun:test";
import { encode } from "../../shared/bencode.ts";
import { WireError } from "../../shared/wire/errors.ts";
import { decodeMetadataMessage, encodeMetadataMessage, MAX_METADATA_SIZE, METADATA_PIECE } from "../../shared/wire/ut-metadata.ts";
import { decodePexMessage, encodePexMessage, MAX_PEX_PEERS } from "../../shared/wire/ut-pex.ts";
import { BENCODE_TOKENS } from "./corpus.ts";
import { fuzzSettings, fuzzTimeout, Mutator, runFuzz } from "./fuzz-kit.ts";

const settings = fuzzSettings(4000);

function decodedOrBadExtension<T>(decode: () => T): T | null {
  try {
    return decode();
  } catch (error) {
    if (error instanceof WireError && error.code === "bad-extension") return null;
    throw error;
  }
}

test(
  `fuzz: ut_metadata messages decode within their bounds or fail as bad-extension (${settings.cases} cases)`,
  async () => {
    const seeds = [
      encodeMetadataMessage({ kind: "request", piece: 0 }),
      encodeMetadataMessage({ kind: "reject", piece: 5 }),
      encodeMetadataMessage({ kind: "data", piece: 1, totalSize: METADATA_PIECE + 40, data: new Uint8Array(40).fill(3) }),
      encodeMetadataMessage({ kind: "data", piece: 0, totalSize: 30, data: new Uint8Array(30).fill(9) }),
    ];
    const mutator = new Mutator(seeds, BENCODE_TOKENS);
    await runFuzz(
      "ut_metadata",
      settings,
      (rng) => mutator.next(rng),
      (input) => {
        const m = decodedOrBadExtension(() => decodeMetadataMessage(input));
        if (m === null) return;
        if (m.kind === "data") {
          if (m.totalSize > MAX_METADATA_SIZE || m.data.length > METADATA_PIECE || m.piece * METADATA_PIECE + m.data.length > m.totalSize) {
            throw new Error(`data piece ${m.piece} of ${m.data.length} bytes does not fit ${m.totalSize}`);
          }
        }
        expect(decodeMetadataMessage(encodeMetadataMessage(m))).toEqual(m);
      },
    );
  },
  fuzzTimeout(settings),
);

test(
  `fuzz: ut_pex messages decode within their caps or fail as bad-extension (${settings.cases} cases)`,
  async () => {
    const seeds = [
      encodePexMessage({
        added: [
          { ip: "127.0.0.2", port: 6881, flags: 0x12 },
          { ip: "::1", port: 80, flags: 1 },
        ],
        dropped: [{ ip: "1.2.3.4", port: 5 }],
      }),
      encode({ added: new Uint8Array([127, 0, 0, 1, 0x1a, 0xe1]), "added.f": new Uint8Array([2]), dropped: new Uint8Array() }),
    ];
    const mutator = new Mutator(seeds, BENCODE_TOKENS);
    await runFuzz(
      "ut_pex",
      settings,
      (rng) => mutator.next(rng),
      (input) => {
        const m = decodedOrBadExtension(() => decodePexMessage(input));
        if (m === null) return;
        if (m.added.length > 2 * MAX_PEX_PEERS || m.dropped.length > 2 * MAX_PEX_PEERS) throw new Error("a pex list over its cap");
        for (const p of [...m.added, ...m.dropped]) if (!(p.port >= 1 && p.port <= 65535)) throw new Error(`port ${p.port}`);
        const again = decodePexMessage(encodePexMessage(m));
        expect(again.dropped).toEqual(m.dropped);
        expect(new Set(again.added.map((p) => `${p.ip}:${p.port}:${p.flags}`))).toEqual(new Set(m.added.map((p) => `${p.ip}:${p.port}:${p.flags}`)));
      },
    );
  },
  fuzzTimeout(settings),
);
