// The daemon's (and a CLI run's) announce settings, under qBittorrent's meaning: announce to all tiers
// (default on, as qBittorrent and Transmission do), announce to all trackers in a tier (default off).
// Reading them from JSON (the API, the state file) lives here so that every door checks them alike.

export interface AnnounceSettings {
  /** Each tier is announced to on its own, not only the first that works (qBittorrent's `announce_to_all_tiers`). */
  announceToAllTiers: boolean;
  /** Every tracker of every tier is announced to (qBittorrent's `announce_to_all_trackers`). */
  announceToAllTrackers: boolean;
}

export const DEFAULT_ANNOUNCE_SETTINGS: Readonly<AnnounceSettings> = { announceToAllTiers: true, announceToAllTrackers: false };

/** The settings an object names (unknown keys ignored); a named one that is not a boolean throws RangeError. */
export function announceSettingsOf(object: Record<string, unknown>): Partial<AnnounceSettings> {
  const out: Partial<AnnounceSettings> = {};
  for (const key of ["announceToAllTiers", "announceToAllTrackers"] as const) {
    if (!(key in object)) continue;
    const value = object[key];
    if (typeof value !== "boolean") throw new RangeError(`${key} must be true or false, got ${JSON.stringify(value)}`);
    out[key] = value;
  }
  return out;
}
