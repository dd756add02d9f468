// A stored torrent that a restart trusts whole from its resume data, and that would go dormant as soon as
// it started (torrent-entry.ts), is made dormant at start-up without a Torrent: building one only to let
// it go is most of what 10,000 such torrents cost a restart (its garbage; bench:daemon). Its listeners
// are told what its start would have said (Torrent.start: a check of no piece, `started` as a seeder,
// `completed`); the one `progress` a torrent says on going idle is not repeated, it had nothing new.
import type { Bitfield } from "../../shared/bitfield.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { TorrentEvent, Totals } from "../torrent/events.ts";
import { piecePriorities, type FilePriority } from "../pieces/wanted.ts";
import type { SeedingGoals } from "../torrent/seeding-goals.ts";

export interface StoredStart {
  readonly meta: Metainfo;
  /** Pieces the resume plan trusts. */
  readonly have: Bitfield;
  /** Pieces the plan would hash first. */
  readonly recheck: number;
  readonly priorities: readonly FilePriority[];
  readonly paused: boolean;
  readonly goals: SeedingGoals;
}

/**
 * Whether the torrent can start dormant: nothing to check, every wanted piece trusted, not paused, no
 * seeding goal to watch. Anything else starts as a Torrent does. Its trackers, if any, are announced to
 * by the client's DormantAnnounces (firstCarry: `started` when its turn comes), and a public one on the
 * DHT by its DormantDht.
 */
export function startsDormant(s: StoredStart): boolean {
  if (s.recheck > 0 || s.paused) return false;
  if (s.goals.ratioLimit !== null || s.goals.seedTimeLimit !== null) return false;
  const wanted = piecePriorities(s.meta, s.priorities);
  for (let i = 0; i < s.meta.pieceCount; i++) if (wanted[i] !== 0 && !s.have.has(i)) return false;
  return true;
}

/** The events a Torrent's start says for such a torrent, in order. */
export function dormantStartEvents(s: StoredStart, limits: { port: number; uploadLimit: number | null; downloadLimit: number | null }): TorrentEvent[] {
  const { meta, have } = s;
  const count = have.count();
  const wanted = piecePriorities(meta, s.priorities);
  let wantedPieces = 0;
  for (let i = 0; i < meta.pieceCount; i++) if (wanted[i] !== 0) wantedPieces++;
  const totals: Totals = {
    have: count,
    pieces: meta.pieceCount,
    wantedPieces,
    downloaded: 0,
    uploaded: 0,
    fetchedPieces: 0,
    resumedPieces: count,
    failedPieces: 0,
    uploadedByFile: 0,
  };
  return [
    { event: "checking", pieces: 0 },
    { event: "checked", checked: 0, ...totals },
    {
      event: "started",
      name: meta.name,
      infoHash: Buffer.from(meta.infoHash).toString("hex"),
      length: meta.length,
      port: limits.port,
      seeding: true,
      uploadLimit: limits.uploadLimit,
      downloadLimit: limits.downloadLimit,
      webSeeds: [],
      checked: 0,
      ...totals,
    },
    { event: "completed", seconds: 0, ...totals },
  ];
}
