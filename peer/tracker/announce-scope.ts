// Which of a torrent's trackers are announced to: qBittorrent's two settings ("always announce to all
// tiers", "always announce to all trackers in a tier") as one explicit scope, and the announce-list cut
// into the lanes that scope announces to, each on its own (its own events, interval and backoff).
import type { AnnounceSettings } from "./announce-settings.ts";

/**
 * - `first-tier`: BEP 12 strictly: one lane of all tiers, a later tier asked only when every tracker of the
 *   earlier ones failed.
 * - `every-tier`: one lane per tier (qBittorrent's default, and Transmission's way): a tracker added in a
 *   tier of its own is announced to while the first tier works.
 * - `every-tracker`: one lane per tracker, of every tier.
 */
export type AnnounceScope = "first-tier" | "every-tier" | "every-tracker";

export function scopeOf(settings: AnnounceSettings): AnnounceScope {
  if (settings.announceToAllTrackers) return "every-tracker";
  return settings.announceToAllTiers ? "every-tier" : "first-tier";
}

/** The tiers (each in its BEP 12 order) cut into lanes; within a lane, BEP 12's order and fallback hold. */
export function lanesOf(scope: AnnounceScope, tiers: readonly string[][]): string[][][] {
  switch (scope) {
    case "first-tier":
      return tiers.length > 0 ? [tiers.map((tier) => [...tier])] : [];
    case "every-tier":
      return tiers.map((tier) => [[...tier]]);
    case "every-tracker":
      return tiers.flatMap((tier) => tier.map((url) => [[url]]));
  }
}
