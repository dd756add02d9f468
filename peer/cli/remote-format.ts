// How `btpeer remote` shows the daemon's answers to a person: a table of torrents, one torrent's
// details, the daemon's figures. (--json prints the API's JSON as it is, for scripts.)
import type { DaemonStats, GlobalLimits, TorrentDetail, TorrentSummary } from "../daemon/control.ts";
import type { DaemonSettings } from "../daemon/daemon-settings.ts";
import { formatBytes, formatDuration } from "./progress.ts";

const rate = (n: number) => `${formatBytes(n)}/s`;
const limit = (n: number | null) => (n === null ? "none" : rate(n));
const percent = (p: number) => `${(p * 100).toFixed(1)}%`;
/** A torrent's name or path as its creator wrote it, control characters shown escaped so a line stays a line. */
const printable = (text: string) => text.replace(/\p{Cc}/gu, (ch) => (ch === "\n" ? "\\n" : `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`));
const eta = (seconds: number | null, progress: number) => (progress >= 1 ? "done" : seconds === null ? "-" : formatDuration(seconds));

/** Columns padded to their widest cell; the name column is cut to `nameWidth`. */
export function torrentTable(torrents: TorrentSummary[], nameWidth = 40): string {
  if (torrents.length === 0) return "no torrents; add one with `btpeer remote add <file.torrent>`";
  const head = ["HASH", "NAME", "STATE", "PROGRESS", "SIZE", "DOWN", "UP", "PEERS", "RATIO", "ETA"];
  const rows = torrents.map((t) => [
    t.infoHash.slice(0, 8),
    cut(printable(t.name), nameWidth),
    t.state,
    percent(t.progress),
    formatBytes(t.wantedSize),
    rate(t.downloadRate),
    rate(t.uploadRate),
    `${t.peers} (${t.seeds})`,
    t.ratio.toFixed(2),
    eta(t.eta, t.progress),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  // Text columns to the left, figures to the right.
  const left = new Set([0, 1, 2]);
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (left.has(i) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}

function cut(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

export function torrentDetail(t: TorrentDetail): string {
  const lines = [
    printable(t.name),
    `  info hash   ${t.infoHash}`,
    `  state       ${t.state}${t.error ? ` (${t.error})` : ""}`,
    `  progress    ${percent(t.progress)} of ${formatBytes(t.wantedSize)}${t.wantedSize !== t.size ? ` wanted (${formatBytes(t.size)} in all)` : ""}, ETA ${eta(t.eta, t.progress)}`,
    `  rates       ↓ ${rate(t.downloadRate)}  ↑ ${rate(t.uploadRate)}`,
    `  totals      ${formatBytes(t.downloaded)} down, ${formatBytes(t.uploaded)} up, ratio ${t.ratio.toFixed(2)}`,
    `  peers       ${t.peers} (${t.seeds} seeds)`,
    `  pieces      ${t.pieceCount} × ${formatBytes(t.pieceLength)}; ${t.hashFailures} failed their hash check`,
    `  save path   ${t.savePath}`,
    `  limits      ↓ ${limit(t.limits.downloadLimit)}  ↑ ${limit(t.limits.uploadLimit)}  peers ${t.limits.maxPeers}${t.sequential ? "  sequential" : ""}`,
    `  goals       ratio ${t.goals.ratioLimit ?? "none"}, seeding time ${t.goals.seedTimeLimit === null ? "none" : formatDuration(t.goals.seedTimeLimit)}`,
    "  files",
    ...t.files.map(
      (f) =>
        `    ${String(f.index).padStart(3)}  ${percent(f.progress).padStart(6)}  ${f.priority.padEnd(6)}  ${formatBytes(f.length).padStart(10)}  ${printable(f.path)}`,
    ),
    "  trackers",
    ...(t.trackers.length === 0
      ? ["    (none)"]
      : t.trackers.map((tr) => `    ${tr.tier}  ${tr.status.padEnd(13)}  ${tr.url}${tr.lastError ? `  (${tr.lastError})` : ""}`)),
  ];
  return lines.join("\n");
}

export function statsText(s: DaemonStats): string {
  const states = Object.entries(s.byState)
    .map(([state, n]) => `${n} ${state}`)
    .join(", ");
  return [
    `torrents    ${s.torrents}${states ? ` (${states})` : ""}`,
    `rates       ↓ ${rate(s.downloadRate)}  ↑ ${rate(s.uploadRate)}`,
    `this run    ${formatBytes(s.downloaded)} down, ${formatBytes(s.uploaded)} up, since ${new Date(s.startedAt).toISOString()}`,
    `peers       ${s.peers} on port ${s.port}`,
    limitsText(s.limits),
  ].join("\n");
}

export function limitsText(l: GlobalLimits): string {
  return `limits      ↓ ${limit(l.downloadLimit)}  ↑ ${limit(l.uploadLimit)}  peers ${l.maxPeers}`;
}

/** The daemon's settings, one a line, under the names the web UI and qBittorrent give them. */
export function settingsText(s: DaemonSettings): string {
  const onOff = (b: boolean) => (b ? "on" : "off");
  const tiers = `announce to all tiers               ${onOff(s.announceToAllTiers)}`;
  const trackers = `announce to all trackers in a tier  ${onOff(s.announceToAllTrackers)}`;
  return `${tiers}\n${trackers}`;
}
