// How a session shows itself: one JSON object per line (--json, for scripts and tests), or a live line
// on a terminal (percent, rates, peers, ETA), or plain occasional lines when output is not a terminal.
import type { TorrentEvent } from "../torrent/events.ts";

export type Reporter = (event: TorrentEvent) => void;

export function jsonReporter(write: (line: string) => void = (l) => process.stdout.write(l)): Reporter {
  return (event) => write(`${JSON.stringify({ ...event, time: Date.now() })}\n`);
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (x: number) => String(x).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

export function humanReporter(isTTY = Boolean(process.stdout.isTTY)): Reporter {
  let lineOpen = false;
  const line = (text: string) => {
    if (lineOpen) process.stdout.write("\n");
    lineOpen = false;
    console.log(text);
  };
  return (e) => {
    switch (e.event) {
      case "checking":
        return e.pieces > 0 ? line(`checking ${e.pieces} pieces on disk`) : undefined;
      case "checked":
        return undefined; // `started` (or the progress that follows a re-check) says what was found
      case "paused":
        return line("paused");
      case "resumed":
        return line("resumed");
      case "started":
        return line(
          `${e.name}: ${formatBytes(e.length)}, ${e.pieces} pieces, ${e.resumedPieces} already on disk; listening on port ${e.port}` +
            (e.uploadLimit ? `; uploads capped at ${formatBytes(e.uploadLimit)}/s` : "") +
            (e.webSeeds.length > 0 ? `; web seeds: ${e.webSeeds.join(", ")}` : ""),
        );
      case "progress": {
        if (!isTTY) return;
        const text =
          `${e.percent.toFixed(1).padStart(5)}%  ↓ ${formatBytes(e.downRate)}/s  ↑ ${formatBytes(e.upRate)}/s  ` +
          `peers ${e.peers}  ETA ${e.have === e.pieces ? "done" : formatDuration(e.eta)}`;
        process.stdout.write(`\r\x1b[2K${text}`);
        lineOpen = true;
        return;
      }
      case "piece-failed":
        return line(`piece ${e.index} failed its hash check (from ${e.peers.join(", ") || "unknown"}); fetching it again${e.parole ? " from one peer" : ""}`);
      case "peer-banned":
        return line(`banned ${e.peer}: ${e.reason}`);
      case "completed":
        return line(`complete: ${e.pieces} pieces verified (${e.fetchedPieces} fetched, ${e.resumedPieces} already on disk) in ${e.seconds.toFixed(1)} s`);
      case "warning":
        return line(`warning: ${e.message}`);
      case "webseed":
        return line(`web seed: ${e.message}${e.retryIn !== undefined ? `; retrying in ${e.retryIn} s` : ""}`);
      case "dht-joined":
        return line(
          e.nodes > 0
            ? `DHT: ${e.nodes} nodes (from ${e.source === "saved" ? "the saved table" : "the routers"}), UDP port ${e.port}`
            : "DHT: no node answered yet",
        );
      case "tracker":
        return e.warning ? line(`tracker warning: ${e.warning}`) : undefined;
      case "error":
        if (lineOpen) process.stdout.write("\n");
        lineOpen = false;
        console.error(`btpeer: ${e.message}`);
        return;
      case "magnet":
        return line(`${e.name ?? e.infoHash}: fetching the metadata from peers; listening on port ${e.port}`);
      case "metadata": {
        if (e.done) return line(`metadata: ${e.total ?? e.received} pieces received and verified`);
        if (!isTTY) return;
        const of = e.total === null ? "size unknown yet" : `${e.received}/${e.total} pieces`;
        process.stdout.write(`\r\x1b[2Kmetadata: ${of}  peers ${e.peers}`);
        lineOpen = true;
        return;
      }
      case "metadata-failed":
        return line(
          `the metadata failed the info hash check (from ${e.peers.join(", ") || "unknown"}); fetching it again${e.parole ? " from one peer at a time" : ""}`,
        );
      case "stopped":
        return line(`stopped: ${formatBytes(e.downloaded)} down, ${formatBytes(e.uploaded)} up`);
    }
  };
}
