// A torrent's settings as the daemon takes them from requests (add, patch) and keeps them in the store's
// options JSON, so they hold across restarts: file priorities, sequential order, limits, seeding goals.
// Every value is checked here, once, into a DaemonError("bad-request") that names it; the Torrent's own
// setters (tuning.ts) then only ever see sane values.
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { allNormal, type FilePriority } from "../pieces/wanted.ts";
import type { SeedingGoals } from "../torrent/seeding-goals.ts";
import type { Torrent } from "../torrent/torrent.ts";
import { DaemonError, type SeedingGoals as GoalsView, type TorrentLimits, type TorrentPatch } from "./control.ts";

/** What the daemon keeps per torrent in the store's options JSON (absent: the daemon's default). */
export interface StoredOptions {
  maxPeers?: number;
  uploadLimit?: number | null;
  downloadLimit?: number | null;
  /** One per file, in the torrent's order; absent: every file `normal`. */
  filePriorities?: FilePriority[];
  sequential?: boolean;
  ratioLimit?: number | null;
  seedTimeLimit?: number | null;
}

const PRIORITIES = new Set<string>(["skip", "normal", "high"]);

/** `current` with what `change` sets, checked against `meta`; throws DaemonError("bad-request"). */
export function mergeSettings(meta: Metainfo, current: StoredOptions, change: TorrentPatch): StoredOptions {
  const next: StoredOptions = { ...current };
  if (change.filePriorities !== undefined) next.filePriorities = priorities(meta, current.filePriorities, change.filePriorities);
  if (change.sequential !== undefined) {
    if (typeof change.sequential !== "boolean") throw bad(`sequential must be true or false, got ${String(change.sequential)}`);
    next.sequential = change.sequential;
  }
  const limits: Partial<TorrentLimits> = change.limits ?? {};
  if (limits.maxPeers !== undefined) {
    if (!Number.isInteger(limits.maxPeers) || limits.maxPeers < 1 || limits.maxPeers > 10_000) {
      throw bad(`limits.maxPeers must be a whole number from 1 to 10000, got ${limits.maxPeers}`);
    }
    next.maxPeers = limits.maxPeers;
  }
  if (limits.uploadLimit !== undefined) next.uploadLimit = rate("limits.uploadLimit", limits.uploadLimit);
  if (limits.downloadLimit !== undefined) next.downloadLimit = rate("limits.downloadLimit", limits.downloadLimit);
  const goals: Partial<GoalsView> = change.goals ?? {};
  if (goals.ratioLimit !== undefined) next.ratioLimit = goal("goals.ratioLimit", goals.ratioLimit);
  if (goals.seedTimeLimit !== undefined) next.seedTimeLimit = goal("goals.seedTimeLimit", goals.seedTimeLimit);
  return next;
}

/** Applies what `change` sets to the running torrent (settings already merged and checked). */
export function applySettings(torrent: Torrent, settings: StoredOptions, change: TorrentPatch): void {
  if (change.filePriorities !== undefined) torrent.setFilePriorities(settings.filePriorities!);
  if (change.sequential !== undefined) torrent.setSequential(settings.sequential ?? false);
  if (change.limits?.maxPeers !== undefined) torrent.setMaxPeers(settings.maxPeers!);
  if (change.limits?.uploadLimit !== undefined || change.limits?.downloadLimit !== undefined) {
    torrent.setRateLimits({ upload: settings.uploadLimit ?? null, download: settings.downloadLimit ?? null });
  }
  if (change.goals !== undefined) torrent.setSeedingGoals(goalsOf(settings));
}

export function goalsOf(settings: StoredOptions): SeedingGoals {
  return { ratioLimit: settings.ratioLimit ?? null, seedTimeLimit: settings.seedTimeLimit ?? null };
}

/** Per-file priorities from a stored list (one that no longer fits the torrent counts as none). */
export function prioritiesOf(meta: Metainfo, settings: StoredOptions): FilePriority[] {
  const stored = settings.filePriorities;
  return stored && stored.length === meta.files.length ? [...stored] : allNormal(meta.files.length);
}

function priorities(meta: Metainfo, current: FilePriority[] | undefined, change: Record<number, FilePriority>): FilePriority[] {
  if (typeof change !== "object" || change === null) throw bad("filePriorities must be an object of file index to skip, normal or high");
  const list = prioritiesOf(meta, { filePriorities: current });
  for (const [key, priority] of Object.entries(change)) {
    const index = Number(key);
    if (!/^\d+$/.test(key) || index >= meta.files.length) throw bad(`filePriorities: the torrent has files 0 to ${meta.files.length - 1}, not ${key}`);
    if (!PRIORITIES.has(priority)) throw bad(`filePriorities: "${String(priority)}" is not skip, normal or high`);
    list[index] = priority;
  }
  return list;
}

/** A limit in bytes per second; null or 0: none. */
function rate(name: string, value: number | null): number | null {
  if (value === null || value === 0) return null;
  if (!Number.isInteger(value) || value < 0) throw bad(`${name} must be bytes per second (a whole number ≥ 0) or null, got ${value}`);
  return value;
}

function goal(name: string, value: number | null): number | null {
  if (value === null) return null;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw bad(`${name} must be a number ≥ 0 or null, got ${String(value)}`);
  return value;
}

const bad = (message: string) => new DaemonError("bad-request", message);
