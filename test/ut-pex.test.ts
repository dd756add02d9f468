// ut_pex (BEP 11) as a codec: IPv4 and IPv6 peers with their flags round-trip, a message as libtorrent
// writes it reads back, odd lists are ignored without losing the rest, and a long list is cut.
import { describe, expect, test } from "bun:test";
import { encode } from "../shared/bencode.ts";
import { WireError } from "../shared/wire/errors.ts";
import { decodePexMessage, encodePexMessage, MAX_PEX_PEERS, PexFlag } from "../shared/wire/ut-pex.ts";

describe("ut_pex codec", () => {
  test("added peers of both families keep their flags; dropped peers come back", () => {
    const m = {
      added: [
        { ip: "127.0.0.2", port: 6881, flags: PexFlag.seed | PexFlag.reachable },
        { ip: "::1", port: 51413, flags: PexFlag.encryption },
        { ip: "10.0.0.9", port: 1, flags: 0 },
      ],
      dropped: [
        { ip: "127.0.0.3", port: 7000 },
        { ip: "fe80::1", port: 9 },
      ],
    };
    const back = decodePexMessage(encodePexMessage(m));
    expect(back.added).toEqual([m.added[0]!, m.added[2]!, m.added[1]!]);
    expect(back.dropped).toEqual(m.dropped);
  });

  test("reads a message laid out as libtorrent sends it (added, added.f, dropped; no IPv6 lists)", () => {
    const payload = encode({
      added: new Uint8Array([127, 0, 0, 1, 0x1a, 0xe1, 192, 168, 1, 2, 0x00, 0x50]),
      "added.f": new Uint8Array([0x12, 0x01]),
      dropped: new Uint8Array([1, 2, 3, 4, 0, 80]),
    });
    expect(decodePexMessage(payload)).toEqual({
      added: [
        { ip: "127.0.0.1", port: 6881, flags: 0x12 },
        { ip: "192.168.1.2", port: 80, flags: 0x01 },
      ],
      dropped: [{ ip: "1.2.3.4", port: 80 }],
    });
  });

  test("a list of the wrong length or type is ignored, missing flags read as 0, zero ports are skipped", () => {
    const payload = encode({
      added: new Uint8Array([127, 0, 0, 1, 0x1a, 0xe1, 127, 0, 0, 2, 0, 0]),
      added6: new Uint8Array(17),
      dropped: "not peers",
    });
    expect(decodePexMessage(payload)).toEqual({ added: [{ ip: "127.0.0.1", port: 6881, flags: 0 }], dropped: [] });
  });

  test(`at most ${MAX_PEX_PEERS} peers are read from one list, whatever the message holds`, () => {
    const many = new Uint8Array(6 * (MAX_PEX_PEERS + 50));
    for (let i = 0; i < MAX_PEX_PEERS + 50; i++) many.set([10, 0, i >> 8, i & 0xff, 0x1a, 0xe1], i * 6);
    const m = decodePexMessage(encode({ added: many, dropped: many }));
    expect(m.added.length).toBe(MAX_PEX_PEERS);
    expect(m.dropped.length).toBe(MAX_PEX_PEERS);
    expect(() => encodePexMessage({ added: m.added.concat(m.added[0]!), dropped: [] })).toThrow(RangeError);
  });

  test("a payload that is not a dictionary is a bad-extension protocol error", () => {
    for (const payload of [encode([1]), encode(5), new TextEncoder().encode("d5:added"), new Uint8Array()]) {
      let code = "no error";
      try {
        decodePexMessage(payload);
      } catch (error) {
        code = error instanceof WireError ? error.code : String(error);
      }
      expect(code).toBe("bad-extension");
    }
  });
});
