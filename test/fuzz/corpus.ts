// Valid inputs the fuzz targets start from, all made by the project's own encoders from fixed bytes:
// torrents from createTorrent (what `btpeer create` writes) plus hand-built ones reaching the parser's
// optional paths, wire streams from the wire codec, and announce/scrape queries as clients send them.
import { encode, type BEncodable } from "../../shared/bencode.ts";
import { utf8 } from "../../shared/bytes.ts";
import { createTorrent, type CreateFile, type CreateOptions } from "../../shared/metainfo/create.ts";
import { encodeHandshake, encodeMessage, type WireMessage } from "../../shared/wire/codec.ts";
import { encodeExtensionHandshake } from "../../shared/wire/extension.ts";
import { Rng } from "./fuzz-kit.ts";

const text = (s: string) => utf8.encode(s);

/** Fixed content for a file: the same bytes on every run. */
function contentOf(length: number, seed: number): Uint8Array {
  return new Rng(seed).bytes(length);
}

async function made(options: Omit<CreateOptions, "creationDate">): Promise<Uint8Array> {
  const { torrent } = await createTorrent({ ...options, creationDate: 1_700_000_000 }, async function* (file: CreateFile, index: number) {
    yield contentOf(file.length, index + 1);
  });
  return torrent;
}

/** Every torrent in the corpus, built once (hashing takes a moment). */
export async function torrentCorpus(): Promise<Uint8Array[]> {
  const torrents = [
    await made({
      name: "one.bin",
      multiFile: false,
      files: [{ path: ["one.bin"], length: 40_000 }],
      pieceLength: 16384,
      trackers: [["http://127.0.0.1:8787/announce"]],
    }),
    await made({
      name: "folder",
      multiFile: true,
      files: [
        { path: ["a.txt"], length: 1 },
        { path: ["sub", "b.bin"], length: 20_000 },
        { path: ["sub", "deeper", "c"], length: 16384 },
        { path: ["é ü"], length: 3 },
      ],
      pieceLength: 16384,
      trackers: [["http://127.0.0.1:1/announce", "udp://127.0.0.1:2"], ["https://[::1]:3/announce"]],
      webSeeds: ["http://127.0.0.1:4/files/"],
      comment: "fuzz corpus",
      createdBy: "btpeer 0.1.0",
      private: true,
    }),
  ];
  const pieces = (n: number) => contentOf(20 * n, 99);
  const handMade: { [key: string]: BEncodable }[] = [
    // BEP 47 padding, path.utf-8, name.utf-8, url-list as one string, announce-list with a bad tier
    {
      announce: "http://a/announce",
      "announce-list": [["http://b/announce"], "not a tier"],
      "url-list": "http://seed/",
      info: {
        name: "raw",
        "name.utf-8": "naïve",
        "piece length": 16384,
        pieces: pieces(2),
        files: [
          { length: 100, path: ["x"], "path.utf-8": ["x-utf8"] },
          { length: 16284, path: [".pad", "16284"], attr: "p" },
          { length: 5, path: ["", "y"] },
        ],
      },
    },
    // hybrid v1+v2: loads as v1; both length and files: files wins
    { info: { name: "hybrid", "piece length": 32768, pieces: pieces(1), length: 5, "file tree": { hybrid: { "": { length: 5 } } }, "meta version": 2 } },
    { info: { name: "both", "piece length": 16384, pieces: pieces(1), length: 99, files: [{ length: 7, path: ["f"] }] }, "creation date": 0 },
    // a piece length that is legal but unusual
    { info: { name: "odd", "piece length": 1000, pieces: pieces(3), length: 2001, private: 1 } },
  ];
  return [...torrents, ...handMade.map((t) => encode(t))];
}

/** An extension handshake as clients send them: extensions by name, port, client, reqq, metadata size. */
function extensionHandshake(): Uint8Array {
  return encodeExtensionHandshake({
    m: new Map([
      ["ut_metadata", 3],
      ["ut_pex", 1],
    ]),
    port: 6881,
    client: "btpeer 0.1.0",
    reqq: 500,
    metadataSize: 31_337,
  });
}

/** Bencoded values that are not torrents: tracker replies, an extension handshake, small oddities. */
export function bencodeCorpus(): Uint8Array[] {
  return [
    encode({ interval: 1800, "min interval": 900, complete: 3, incomplete: 7, peers: new Uint8Array([127, 0, 0, 1, 0x1a, 0xe1]) }),
    encode({ "failure reason": "bad info_hash" }),
    encode({ files: { aaaaaaaaaaaaaaaaaaaa: { complete: 1, downloaded: 2, incomplete: 3 } } }),
    encode({ peers: [{ ip: "::1", port: 6881, "peer id": contentOf(20, 7) }] }),
    extensionHandshake(),
    encode([0, -1, 9007199254740991, -9007199254740991, "", [], {}]),
    encode({ a: [[[[{ b: [1, 2, 3] }]]]], é: "ü", z: contentOf(40, 3) }),
    text("i42e"),
    text("0:"),
    text("le"),
    text("de"),
  ];
}

/** Fragments worth inserting into bencode: markers, edge integers, huge lengths, forbidden keys. */
export const BENCODE_TOKENS = [
  "i",
  "e",
  "d",
  "l",
  ":",
  "0:",
  "1:",
  "i0e",
  "i-0e",
  "i-e",
  "ie",
  "i01e",
  "i9007199254740992e",
  "i-9007199254740991e",
  "999999999:",
  "4294967296:",
  "9007199254740993:",
  "00:",
  "1:a1:a",
  "9:__proto__",
  "11:constructor",
  "d9:__proto__de",
  "llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll",
  "dddddddd",
  "4:info",
  "6:pieces",
  "6:length",
  "12:piece length",
  "5:files",
  "4:path",
  "4:name",
  "2:..",
  "1:/",
  "1:\0",
].map(text);

/** Pieces in the torrent the wire corpus talks about: 13, so the bitfield's last byte has spare bits. */
export const WIRE_PIECES = 13;

/** A peer's whole side of a connection: handshake, then one of every message, as the codec writes them. */
export function wireStreams(): Uint8Array[] {
  const handshake = encodeHandshake({ reserved: new Uint8Array([0, 0, 0, 0, 0, 0x10, 0, 0]), infoHash: contentOf(20, 11), peerId: contentOf(20, 12) });
  const messages: WireMessage[] = [
    { type: "extended", id: 0, payload: extensionHandshake() },
    { type: "extended", id: 3, payload: encode({ msg_type: 0, piece: 0 }) },
    { type: "bitfield", bits: new Uint8Array([0xff, 0xf8]) },
    { type: "have", index: 12 },
    { type: "unchoke" },
    { type: "interested" },
    { type: "request", index: 3, begin: 16384, length: 16384 },
    { type: "piece", index: 0, begin: 0, block: contentOf(16384, 21) },
    { type: "piece", index: 12, begin: 100, block: contentOf(999, 22) },
    { type: "cancel", index: 3, begin: 16384, length: 16384 },
    { type: "keep-alive" },
    { type: "port", port: 6881 },
    { type: "not-interested" },
    { type: "choke" },
    { type: "unknown", id: 30, payload: contentOf(4, 23) },
    { type: "have-all" },
    { type: "have-none" },
    { type: "suggest", index: 2 },
    { type: "reject", index: 3, begin: 16384, length: 16384 },
    { type: "allowed-fast", index: 1 },
  ];
  const all = messages.map((m) => encodeMessage(m));
  const join = (parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) out.set(p, o), (o += p.length);
    return out;
  };
  return [join([handshake, ...all]), join([handshake, all[1]!, all[6]!, all[7]!]), join([handshake, all[2]!, all[9]!, all[5]!])];
}

/** Every byte escaped, as most clients send binary ids. */
export function escapeAll(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  return out;
}

/** Announce and scrape query strings (without "?") as real clients write them. */
export function queryCorpus(): string[] {
  const hash = contentOf(20, 31);
  hash[0] = 0xff;
  const peer = text("-BT0001-abcdefghijkl");
  const hash2 = text("aaaaaaaaaaaaaaaaaaaa");
  return [
    `info_hash=${escapeAll(hash)}&peer_id=${escapeAll(peer)}&port=6881&uploaded=0&downloaded=0&left=1000&event=started&compact=1`,
    `info_hash=${escapeAll(hash2)}&peer_id=-BT0001-abcdefghijkl&port=51413&uploaded=123&downloaded=456&left=0&numwant=80&key=1a2b&event=completed&no_peer_id=1&compact=0`,
    // mixed escaping (libtorrent leaves unreserved bytes bare), form-encoded '+', ip and an empty value
    `info_hash=aaaaaaaaa%61aaaaaaaaaa&peer_id=%2dqB4250%2d+%7E%41bcdefghij&port=1&left=18446744073709551615&ip=::1&event=&numwant=&corrupt=0`,
    `info_hash=${escapeAll(hash)}&peer_id=${escapeAll(peer)}&port=65535&left=5&event=stopped#fragment`,
    `info_hash=${escapeAll(hash)}&info_hash=${escapeAll(hash2)}&info_hash=${escapeAll(hash)}`,
    `info_hash=${escapeAll(hash2)}`,
    "",
  ];
}

export const QUERY_TOKENS = [
  "&",
  "=",
  "%",
  "%0",
  "%zz",
  "%FF",
  "%00",
  "+",
  "#",
  "?",
  "&&",
  "==",
  "é",
  "\u{1F600}",
  "\r\n",
  " ",
  "info_hash=",
  "peer_id=",
  "port=",
  "left=",
  "event=",
  "numwant=",
  "compact=",
  "ip=",
  "no_peer_id=1",
  "uploaded=",
  "downloaded=",
  "event=paused",
  "event=started",
  "numwant=99999999999999999999",
  "port=0",
  "port=65536",
  "left=-1",
].map(text);
