import type { CloseCode } from "../net/close-reason.ts";
import type { ConnectionEncryption } from "../net/connection-types.ts";
import type { WebSeedEvent } from "../webseed/web-seed.ts";
import type { PeerErrorCode } from "./exit-codes.ts";

// What a torrent reports. The CLI prints these as one JSON object per line (--json) or as a live line.

export interface Totals {
  /** Pieces verified and on disk, of `pieces`. */
  have: number;
  pieces: number;
  /** Pieces wanted (touching a file not skipped): `pieces` unless files are skipped. */
  wantedPieces: number;
  /** Payload bytes received / sent over the wire this run. */
  downloaded: number;
  uploaded: number;
  /** Pieces fetched and verified this run, and pieces found already verified on disk at start. */
  fetchedPieces: number;
  resumedPieces: number;
  failedPieces: number;
  /** Of `uploaded`, the bytes the kernel sent from files with sendfile(2), never copied through this process. */
  uploadedByFile: number;
}

export type TorrentEvent =
  /** Hashing `pieces` pieces on disk before trusting them (at start, or a re-check). */
  | { event: "checking"; pieces: number }
  /** The check is done: `checked` pieces were hashed, `have` of them (and of those trusted unhashed) are there. */
  | ({ event: "checked"; checked: number } & Totals)
  /** Once, after the first check: the torrent goes to work (or stays paused). `checked`: pieces hashed at start. */
  | ({
      event: "started";
      name: string;
      infoHash: string;
      length: number;
      port: number;
      seeding: boolean;
      uploadLimit: number | null;
      /** The web seeds (BEP 19) used while downloading. */
      webSeeds: string[];
      checked: number;
      downloadLimit: number | null;
    } & Totals)
  | ({ event: "paused" } & Totals)
  | ({ event: "resumed" } & Totals)
  | ({ event: "progress"; percent: number; downRate: number; upRate: number; peers: number; eta: number | null } & Totals)
  /** `peers` sent its blocks; `parole`: they were several, so it is fetched again from one before anyone is blamed. */
  | { event: "piece-failed"; index: number; peers: string[]; parole: boolean }
  | { event: "peer-banned"; peer: string; reason: string }
  /** A peer got through the BitTorrent handshake and holds a slot; `encryption`: plain, or MSE with which payload. */
  | { event: "peer-connected"; peer: string; outgoing: boolean; encryption: ConnectionEncryption }
  /** An incoming connection dropped before any torrent took it: refused by --encryption, a failed MSE handshake, an unknown torrent... */
  | { event: "incoming-dropped"; peer: string; code: CloseCode; reason: string }
  /** `peer` told us of `added` addresses new to the torrent (through peer exchange, BEP 11). */
  | { event: "peers-learned"; source: "pex"; peer: string; added: number }
  /** Every wanted piece is verified and on disk (with skipped files, the others may still be missing). */
  | ({ event: "completed"; seconds: number } & Totals)
  /** A seeding goal (ratio, or seconds of seeding) is reached: the torrent stops. */
  | { event: "goal-reached"; goal: "ratio" | "seed-time"; value: number; limit: number }
  | { event: "tracker"; tracker: string; peers: number; warning?: string }
  /** A web seed's request failed (with when it is asked again), a piece from it was bad, or it was dropped. */
  | ({ event: "webseed" } & WebSeedEvent)
  /** A DHT lookup (and announce) of this torrent ended: peers found, nodes that took our announce. */
  | { event: "dht"; peers: number; announcedTo: number }
  /** The client's DHT joined (bootstrap ended): nodes in its table, and where they came from. */
  | { event: "dht-joined"; nodes: number; source: "saved" | "routers" | "none"; port: number }
  | { event: "warning"; message: string }
  | { event: "error"; code: PeerErrorCode; message: string }
  | ({ event: "stopped" } & Totals)
  /** A magnet link's torrent started: its metadata is fetched from peers first. `name`: the link's `dn`, if any. */
  | { event: "magnet"; infoHash: string; name: string | null; port: number; trackers: number; peers: number }
  /** Metadata pieces received of `total` (null until a peer tells the size); `done` once the info dictionary is verified. */
  | { event: "metadata"; received: number; total: number | null; peers: number; done: boolean }
  /** An assembled info dictionary failed the info hash check; `parole`: several peers sent it, so it is fetched again from one. */
  | { event: "metadata-failed"; peers: string[]; parole: boolean };
