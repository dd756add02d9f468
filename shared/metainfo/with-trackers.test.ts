import { expect, test } from "bun:test";
import { encode } from "../bencode.ts";
import { concatBytes } from "../bytes.ts";
import { parseMetainfo } from "./parse.ts";
import { withTrackers } from "./with-trackers.ts";

const te = new TextEncoder();
const info = { name: "a.bin", "piece length": 16384, length: 40000, pieces: new Uint8Array(60) };

test("the trackers are replaced; the info dictionary's bytes, and so the info hash, and every other key stay", () => {
  const before = encode({ announce: "http://a/announce", comment: "hi", "created by": "me", info, "url-list": ["http://seed/"] });
  const after = parseMetainfo(withTrackers(before, [["udp://b:1"], ["http://c/x", "http://d/y"]]));
  const was = parseMetainfo(before);
  expect(after.infoBytes).toEqual(was.infoBytes);
  expect(after.infoHash).toEqual(was.infoHash);
  expect(after.announceList).toEqual([["udp://b:1"], ["http://c/x", "http://d/y"]]);
  expect([after.comment, after.createdBy, after.urlList]).toEqual(["hi", "me", ["http://seed/"]]);
});

test("no tier at all leaves a torrent with no tracker", () => {
  const before = encode({ announce: "http://a/announce", "announce-list": [["http://a/announce"]], info });
  expect(parseMetainfo(withTrackers(before, [[]])).announceList).toEqual([]);
});

test("an info dictionary whose keys are out of order (a sloppy tool's) is kept as it stands", () => {
  // "name" before "length": not canonical; a re-encoding would sort it and change the info hash.
  const infoBytes = te.encode(`d4:name5:a.bin6:lengthi40000e12:piece lengthi16384e6:pieces60:${"\0".repeat(60)}e`);
  const before = concatBytes([te.encode("d8:announce17:http://a/announce4:info"), infoBytes, te.encode("e")]);
  const after = parseMetainfo(withTrackers(before, [["http://b/announce"]]));
  expect(after.infoBytes).toEqual(infoBytes);
  expect(after.infoHash).toEqual(parseMetainfo(before).infoHash);
  expect(after.announceList).toEqual([["http://b/announce"]]);
});
