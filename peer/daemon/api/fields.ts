// Typed fields of API requests, checked one by one; each failure names the field and what it wants.
// The same checks read JSON values and, through textValue, query parameters and form fields.
import type { FilePriority, GlobalLimits, SeedingGoals, TorrentLimits } from "../control.ts";
import type { DaemonSettings } from "../daemon-settings.ts";
import { announceSettingsOf } from "../../tracker/announce-settings.ts";
import { badRequest, HttpError } from "./errors.ts";

const HASH = /^[0-9a-fA-F]{40}$/;
const PRIORITIES = new Set<string>(["skip", "normal", "high"]);
/** Peer connections are file descriptors; nobody means more than this. */
const MAX_PEERS = 65_535;

/** An info hash of 40 hex digits, either case, in lower case. */
export function infoHashOf(text: string | undefined, where: string): string {
  if (text === undefined || !HASH.test(text)) throw new HttpError("bad-hash", `${where} must be an info hash of 40 hex digits, got "${text ?? ""}"`);
  return text.toLowerCase();
}

/** Refuses fields this request does not know: a typo must not pass as a silent no-op. */
export function knownFields(object: Record<string, unknown>, known: readonly string[], where: string): void {
  const unknown = Object.keys(object).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw badRequest(`${where}${unknown[0]}`, `is not a field here; known: ${known.join(", ")}`);
}

export function objectField(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest(field, "must be a JSON object");
  return value as Record<string, unknown>;
}

export function booleanField(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") throw badRequest(field, `must be true or false, got ${shown(value)}`);
  return value;
}

export function stringField(value: unknown, field: string): string {
  if (typeof value !== "string" || value === "") throw badRequest(field, `must be a non-empty string, got ${shown(value)}`);
  return value;
}

/** Bytes per second: a whole number, or null for no limit; 0 also means no limit (as on the command line). */
export function rateField(value: unknown, field: string): number | null {
  if (value === null) return null;
  const n = wholeNumber(value, field, 0, Number.MAX_SAFE_INTEGER);
  return n === 0 ? null : n;
}

export function maxPeersField(value: unknown, field: string): number {
  return wholeNumber(value, field, 1, MAX_PEERS);
}

export function ratioField(value: unknown, field: string): number | null {
  if (value === null) return null;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw badRequest(field, `must be a number of at least 0 or null, got ${shown(value)}`);
  return value;
}

export function secondsField(value: unknown, field: string): number | null {
  if (value === null) return null;
  return wholeNumber(value, field, 0, Number.MAX_SAFE_INTEGER);
}

/** {"<file index>": "skip" | "normal" | "high"}; indices checked against `fileIndices` when known. */
export function prioritiesField(value: unknown, field: string, fileIndices?: ReadonlySet<number>): Record<number, FilePriority> {
  const object = objectField(value, field);
  const out: Record<number, FilePriority> = {};
  for (const [key, priority] of Object.entries(object)) {
    const index = fileIndex(key, `${field}.${key}`, fileIndices);
    if (typeof priority !== "string" || !PRIORITIES.has(priority))
      throw badRequest(`${field}.${key}`, `must be "skip", "normal" or "high", got ${shown(priority)}`);
    out[index] = priority as FilePriority;
  }
  return out;
}

export function fileIndex(text: string, field: string, fileIndices?: ReadonlySet<number>): number {
  if (!/^\d{1,9}$/.test(text)) throw badRequest(field, `must name a file by its index (a whole number), got "${text}"`);
  const index = Number(text);
  if (fileIndices && !fileIndices.has(index)) throw badRequest(field, `names file ${index}, which this torrent does not have (it has ${fileIndices.size})`);
  return index;
}

/** `field` "" is the body itself: its fields are then named alone. */
export function limitsField(value: unknown, field: string): Partial<TorrentLimits> {
  const object = objectField(value, field || "the body");
  const name = (key: string) => (field ? `${field}.${key}` : key);
  knownFields(object, ["uploadLimit", "downloadLimit", "maxPeers"], field ? `${field}.` : "");
  const out: Partial<TorrentLimits> = {};
  if ("uploadLimit" in object) out.uploadLimit = rateField(object.uploadLimit, name("uploadLimit"));
  if ("downloadLimit" in object) out.downloadLimit = rateField(object.downloadLimit, name("downloadLimit"));
  if ("maxPeers" in object) out.maxPeers = maxPeersField(object.maxPeers, name("maxPeers"));
  return out;
}

export function goalsField(value: unknown, field: string): Partial<SeedingGoals> {
  const object = objectField(value, field);
  knownFields(object, ["ratioLimit", "seedTimeLimit"], `${field}.`);
  const out: Partial<SeedingGoals> = {};
  if ("ratioLimit" in object) out.ratioLimit = ratioField(object.ratioLimit, `${field}.ratioLimit`);
  if ("seedTimeLimit" in object) out.seedTimeLimit = secondsField(object.seedTimeLimit, `${field}.seedTimeLimit`);
  return out;
}

/** PATCH /api/v1/limits: the global limits, any of them (the same fields as a torrent's). */
export function globalLimitsOf(object: Record<string, unknown>): Partial<GlobalLimits> {
  return limitsField(object, "");
}

/** PATCH /api/v1/settings: any of them; an unknown key is refused by name (a typo must not pass silently). */
export function settingsOf(object: Record<string, unknown>): Partial<DaemonSettings> {
  const known = ["announceToAllTiers", "announceToAllTrackers"];
  for (const key of Object.keys(object)) if (!known.includes(key)) throw badRequest(key, `is not a setting (known: ${known.join(", ")})`);
  for (const key of known) if (key in object && typeof object[key] !== "boolean") throw badRequest(key, `must be true or false, got ${shown(object[key])}`);
  return announceSettingsOf(object);
}

/**
 * A query parameter or form field as the JSON value it stands for: "true"/"false", numbers, "null"
 * or "none" (no limit); anything else stays text, for the field's check to refuse by name.
 */
export function textValue(text: string): unknown {
  const t = text.trim();
  if (t === "true" || t === "false") return t === "true";
  if (t === "null" || t === "none") return null;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  return text;
}

function wholeNumber(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw badRequest(field, `must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}, got ${shown(value)}`);
  }
  return value;
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
