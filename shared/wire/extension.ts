// The extension protocol (BEP 10) as typed values. The frame codec hands over an `extended` message as
// its extended id and a payload view; this module turns the handshake (id 0) into an ExtensionHandshake
// and back. Extensions are known by name only: the peer's `m` dictionary says which id it wants for each
// name it speaks, and a name we do not know is kept but never acted on (ids are never guessed).
import { BencodeError, decode, encode, type BDict, type BEncodable, type BValue } from "../bencode.ts";
import { WireError } from "./errors.ts";

/** Reserved byte 5, bit 0x10 of the handshake: "I speak the extension protocol". */
export const EXTENSION_BIT = { byte: 5, mask: 0x10 } as const;

/** Extended message id 0 is the extension handshake; every other id is one the receiver chose in its `m`. */
export const EXTENSION_HANDSHAKE_ID = 0;

/** What a peer tells about itself in its extension handshake; every field but `m` is optional. */
export interface ExtensionHandshake {
  /** Extension name → the extended message id the sender wants to receive it with (never 0). */
  readonly m: ReadonlyMap<string, number>;
  /** Names the sender turned off in this (repeated) handshake: id 0 in `m` means "disabled". */
  readonly disabled?: readonly string[];
  /** The sender's TCP listen port. */
  readonly port?: number;
  /** Client name and version. */
  readonly client?: string;
  /** Requests the sender queues without dropping (`reqq`). */
  readonly reqq?: number;
  /**
   * The longest request the sender serves, in bytes (`btpeer_max_request`, our own key; BEP 3's clients
   * close a connection asked for more than 16 KiB, so a peer that does not say gets 16 KiB requests).
   */
  readonly maxRequest?: number;
  /** Our address as the sender sees it (4 or 16 bytes). */
  readonly yourIp?: Uint8Array;
  /** The sender's own IPv6 / IPv4 address (16 / 4 bytes), for a peer behind another family. */
  readonly ipv6?: Uint8Array;
  readonly ipv4?: Uint8Array;
  /** Size of the info dictionary (ut_metadata, BEP 9). */
  readonly metadataSize?: number;
  /** `e`: the sender prefers encrypted connections (what PEX's encryption flag tells others). */
  readonly encryption?: boolean;
}

const MAX_EXTENDED_ID = 255;
/** The handshake key of ExtensionHandshake.maxRequest. */
export const MAX_REQUEST_KEY = "btpeer_max_request";

/**
 * Reads an extension handshake payload (the bytes after the extended id). A payload that is not a
 * bencoded dictionary is a protocol violation (WireError `bad-extension`); a field of the wrong type or
 * out of range is ignored, as other clients do, so one odd field does not cost the connection.
 */
export function decodeExtensionHandshake(payload: Uint8Array): ExtensionHandshake {
  let value: BValue;
  try {
    value = decode(payload, { strictKeyOrder: false });
  } catch (error) {
    if (error instanceof BencodeError) throw new WireError("bad-extension", `extension handshake is not bencode: ${error.message}`);
    throw error;
  }
  if (!isDict(value)) throw new WireError("bad-extension", "extension handshake is not a dictionary");
  const m = new Map<string, number>();
  const disabled: string[] = [];
  if (isDict(value.m)) {
    for (const [name, id] of Object.entries(value.m)) {
      if (!isIntIn(id, 0, MAX_EXTENDED_ID)) continue;
      if (id === 0) disabled.push(name);
      else m.set(name, id);
    }
  }
  return {
    m,
    ...(disabled.length > 0 ? { disabled } : {}),
    ...optional("port", isIntIn(value.p, 1, 65535) ? value.p : undefined),
    ...optional("client", value.v instanceof Uint8Array ? new TextDecoder("utf-8", { fatal: false }).decode(value.v) : undefined),
    ...optional("reqq", isIntIn(value.reqq, 1, 2 ** 31 - 1) ? value.reqq : undefined),
    ...optional("maxRequest", isIntIn(value[MAX_REQUEST_KEY], 1, 2 ** 31 - 1) ? value[MAX_REQUEST_KEY] : undefined),
    ...optional("yourIp", isBytesOf(value.yourip, 4, 16) ? value.yourip : undefined),
    ...optional("ipv6", isBytesOf(value.ipv6, 16) ? value.ipv6 : undefined),
    ...optional("ipv4", isBytesOf(value.ipv4, 4) ? value.ipv4 : undefined),
    ...optional("metadataSize", isIntIn(value.metadata_size, 1, Number.MAX_SAFE_INTEGER) ? value.metadata_size : undefined),
    ...optional("encryption", isIntIn(value.e, 0, 1) ? value.e === 1 : undefined),
  };
}

/** The payload of an extension handshake (without the extended id byte). */
export function encodeExtensionHandshake(h: ExtensionHandshake): Uint8Array {
  const m: Record<string, number> = {};
  for (const [name, id] of h.m) {
    if (!isIntIn(id, 1, MAX_EXTENDED_ID)) throw new RangeError(`extension ${name}: id ${id} is not 1..${MAX_EXTENDED_ID}`);
    m[name] = id;
  }
  for (const name of h.disabled ?? []) m[name] = 0;
  const dict: Record<string, BEncodable | undefined> = {
    m,
    p: h.port,
    v: h.client,
    reqq: h.reqq,
    [MAX_REQUEST_KEY]: h.maxRequest,
    yourip: h.yourIp,
    ipv6: h.ipv6,
    ipv4: h.ipv4,
    metadata_size: h.metadataSize,
    e: h.encryption === undefined ? undefined : h.encryption ? 1 : 0,
  };
  return encode(dict);
}

/** True when the handshake's reserved bytes say the peer speaks BEP 10. */
export function supportsExtensions(reserved: Uint8Array): boolean {
  return ((reserved[EXTENSION_BIT.byte] ?? 0) & EXTENSION_BIT.mask) !== 0;
}

function isDict(v: BValue | undefined): v is BDict {
  return typeof v === "object" && v !== null && !(v instanceof Uint8Array) && !Array.isArray(v);
}

function isIntIn(v: BValue | undefined, min: number, max: number): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
}

function isBytesOf(v: BValue | undefined, ...lengths: number[]): v is Uint8Array {
  return v instanceof Uint8Array && lengths.includes(v.length);
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
