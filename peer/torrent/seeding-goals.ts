// When a torrent has seeded enough: a share ratio reached, or a time spent seeding. Checked on the
// torrent's tick while it seeds; the torrent then stops (state `stopped`) after a `goal-reached` event.

export interface SeedingGoals {
  /** Stop seeding once uploaded ÷ downloaded reaches this (null: no goal). */
  ratioLimit: number | null;
  /** Stop seeding after this many seconds of seeding (null: no goal). */
  seedTimeLimit: number | null;
}

export const NO_GOALS: SeedingGoals = { ratioLimit: null, seedTimeLimit: null };

export interface SeedingRecord {
  /** Totals over the torrent's life. */
  uploaded: number;
  downloaded: number;
  /** Bytes of the wanted pieces: the ratio's base when nothing was downloaded (we started as a seed). */
  wantedBytes: number;
  /** Seconds spent seeding over the torrent's life. */
  seedingSeconds: number;
}

export type GoalReached = { goal: "ratio" | "seed-time"; value: number; limit: number };

/**
 * The share ratio: uploaded ÷ downloaded; a torrent that downloaded (almost) nothing, having started
 * with its data, is measured against the data it holds instead, so its goal is still reachable (as
 * qBittorrent does) rather than infinite from its first byte sent.
 */
export function shareRatio(r: Pick<SeedingRecord, "uploaded" | "downloaded" | "wantedBytes">): number {
  const base = r.downloaded > 0 ? r.downloaded : r.wantedBytes;
  return base > 0 ? r.uploaded / base : 0;
}

export function goalReached(goals: SeedingGoals, record: SeedingRecord): GoalReached | null {
  if (goals.ratioLimit !== null) {
    const ratio = shareRatio(record);
    if (ratio >= goals.ratioLimit) return { goal: "ratio", value: Math.round(ratio * 1000) / 1000, limit: goals.ratioLimit };
  }
  if (goals.seedTimeLimit !== null && record.seedingSeconds >= goals.seedTimeLimit) {
    return { goal: "seed-time", value: Math.floor(record.seedingSeconds), limit: goals.seedTimeLimit };
  }
  return null;
}

/** A message when a goal is impossible (negative, not a number); null when fine. */
export function goalsProblem(goals: Partial<SeedingGoals>): string | null {
  for (const [name, value] of Object.entries(goals)) {
    if (value === null || value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return `${name} must be a number ≥ 0 or null, got ${String(value)}`;
  }
  return null;
}
