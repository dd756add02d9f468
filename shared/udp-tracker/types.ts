// Messages of the UDP tracker protocol (BEP 15), both directions. Numbers on the wire are big-endian;
// 64-bit byte counts are JavaScript numbers (exact up to 2^53 bytes, 8 PiB). Connection ids are
// bigint: the codec never interprets them, the tracker makes and checks them.

/** The magic number opening every connect request. */
export const PROTOCOL_ID = 0x41727101980n;

export const ACTION = { connect: 0, announce: 1, scrape: 2, error: 3 } as const;
export type Action = keyof typeof ACTION;

/** Announce events in their wire order: 0 none, 1 completed, 2 started, 3 stopped. */
export const EVENTS = ["none", "completed", "started", "stopped"] as const;
export type UdpEvent = (typeof EVENTS)[number];

export const CONNECT_REQUEST_BYTES = 16;
/** The fixed part; BEP 41 options may follow (ignored by this codec). */
export const ANNOUNCE_REQUEST_BYTES = 98;
export const SCRAPE_REQUEST_HEADER_BYTES = 16;
export const CONNECT_RESPONSE_BYTES = 16;
export const ANNOUNCE_RESPONSE_HEADER_BYTES = 20;
export const SCRAPE_RESPONSE_HEADER_BYTES = 8;
export const ERROR_RESPONSE_HEADER_BYTES = 8;
/** Per torrent in a scrape reply: seeders, completed, leechers. */
export const SCRAPE_ENTRY_BYTES = 12;
/** BEP 15: about 74 info hashes fit in one scrape request. */
export const MAX_SCRAPE_HASHES = 74;

/** Compact peer size per address family: 4-byte address + port, 16-byte address + port. */
export const PEER_BYTES = { 4: 6, 6: 18 } as const;
export type Family = keyof typeof PEER_BYTES;

export interface ConnectRequest {
  action: "connect";
  transactionId: number;
}

export interface AnnounceRequest {
  action: "announce";
  connectionId: bigint;
  transactionId: number;
  infoHash: Uint8Array;
  peerId: Uint8Array;
  downloaded: number;
  left: number;
  uploaded: number;
  event: UdpEvent;
  /** IPv4 address as an unsigned 32-bit number; 0 = use the sender's address. */
  ip: number;
  key: number;
  /** -1 = the tracker's default. */
  numWant: number;
  port: number;
}

export interface ScrapeRequest {
  action: "scrape";
  connectionId: bigint;
  transactionId: number;
  infoHashes: Uint8Array[];
}

export type UdpRequest = ConnectRequest | AnnounceRequest | ScrapeRequest;

export interface ConnectResponse {
  action: "connect";
  transactionId: number;
  connectionId: bigint;
}

export interface AnnounceResponse {
  action: "announce";
  transactionId: number;
  interval: number;
  leechers: number;
  seeders: number;
  /** Compact peers of one family, concatenated: 6 bytes each over IPv4, 18 over IPv6. */
  peers: Uint8Array;
}

export interface ScrapeEntry {
  seeders: number;
  completed: number;
  leechers: number;
}

export interface ScrapeResponse {
  action: "scrape";
  transactionId: number;
  entries: ScrapeEntry[];
}

export interface ErrorResponse {
  action: "error";
  transactionId: number;
  message: string;
}

export type UdpResponse = ConnectResponse | AnnounceResponse | ScrapeResponse | ErrorResponse;
