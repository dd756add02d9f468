// PATCH /api/v1/torrents/:hash: a TorrentPatch, every field optional, each checked by name; file
// indices against the torrent's own files.
import type { TorrentDetail, TorrentPatch } from "../control.ts";
import { booleanField, goalsField, knownFields, limitsField, prioritiesField } from "./fields.ts";

export const PATCH_FIELDS = ["limits", "filePriorities", "sequential", "goals"] as const;

export function readPatch(body: Record<string, unknown>, torrent: TorrentDetail): TorrentPatch {
  knownFields(body, PATCH_FIELDS, "");
  const patch: TorrentPatch = {};
  if (body.limits !== undefined) patch.limits = limitsField(body.limits, "limits");
  if (body.filePriorities !== undefined) {
    patch.filePriorities = prioritiesField(body.filePriorities, "filePriorities", new Set(torrent.files.map((f) => f.index)));
  }
  if (body.sequential !== undefined) patch.sequential = booleanField(body.sequential, "sequential");
  if (body.goals !== undefined) patch.goals = goalsField(body.goals, "goals");
  return patch;
}
