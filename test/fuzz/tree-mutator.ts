// Structure-aware mutation of bencoded data: decode a valid input, change its tree (a value swapped for
// one of another type or a boundary integer, a key dropped or added, a list item repeated, a string
// made a hostile path) and encode it again. Byte mutations mostly stop at the bencode layer; these
// reach the checks behind it (metainfo fields, paths, lengths).
import { decode, encode, type BDict, type BEncodable, type BValue } from "../../shared/bencode.ts";
import { utf8 } from "../../shared/bytes.ts";
import type { Rng } from "./fuzz-kit.ts";

const INTEGERS = [0, 1, -1, 2, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1), 134217728, 134217729];
const STRINGS = ["", ".", "..", "/", "a/b", "\\", "C:", "c:x", "\0", "\uFFFD", "é", "p", "x".repeat(300), "/etc/passwd", "__proto__", "constructor"];
const KEYS = [
  "info",
  "name",
  "name.utf-8",
  "piece length",
  "pieces",
  "length",
  "files",
  "path",
  "path.utf-8",
  "attr",
  "private",
  "announce",
  "announce-list",
  "url-list",
  "comment",
  "created by",
  "creation date",
  "file tree",
  "meta version",
  "constructor",
  "toString",
];

function randomLeaf(rng: Rng): BValue {
  switch (rng.int(4)) {
    case 0:
      return rng.pick(INTEGERS);
    case 1:
      return utf8.encode(rng.pick(STRINGS));
    case 2:
      return rng.bytes(rng.pick([0, 1, 19, 20, 21, 40, 60]));
    default:
      return rng.chance(0.5) ? [] : {};
  }
}

/** Every container in the tree with a way to replace one of its children. */
function containers(value: BValue, out: (BValue[] | BDict)[] = []): (BValue[] | BDict)[] {
  if (Array.isArray(value)) {
    out.push(value);
    for (const item of value) containers(item, out);
  } else if (typeof value === "object" && !(value instanceof Uint8Array)) {
    out.push(value);
    for (const key of Object.keys(value)) containers(value[key]!, out);
  }
  return out;
}

function mutateOnce(root: BValue, rng: Rng): void {
  const all = containers(root);
  if (all.length === 0) return;
  const target = rng.pick(all);
  if (Array.isArray(target)) {
    const i = rng.int(target.length + 1);
    switch (rng.int(4)) {
      case 0:
        target.splice(i, 0, randomLeaf(rng));
        break;
      case 1:
        target.splice(i, 1);
        break;
      case 2:
        if (target.length > 0) target.splice(i, 0, ...Array(1 + rng.int(20)).fill(target[Math.min(i, target.length - 1)]));
        break;
      default:
        if (i < target.length) target[i] = randomLeaf(rng);
    }
    return;
  }
  const keys = Object.keys(target);
  switch (rng.int(4)) {
    case 0:
      target[rng.pick(KEYS)] = randomLeaf(rng);
      break;
    case 1:
      if (keys.length > 0) delete target[rng.pick(keys)];
      break;
    case 2:
      if (keys.length > 0) {
        // move a subtree under another key (e.g. a file list where a path belongs)
        const from = target[rng.pick(keys)]!;
        target[rng.pick(KEYS)] = from;
      }
      break;
    default:
      if (keys.length > 0) target[rng.pick(keys)] = randomLeaf(rng);
  }
}

/** A valid input's tree, changed one to three times and encoded again (shared subtrees are fine: encode copies). */
export function mutateTree(input: Uint8Array, rng: Rng): Uint8Array {
  const root = decode(input, { strictKeyOrder: false });
  for (let k = 1 + rng.int(3); k > 0; k--) mutateOnce(root, rng);
  return encode(root as BEncodable);
}
