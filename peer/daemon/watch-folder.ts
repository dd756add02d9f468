// The watch folder: a `.torrent` dropped into it is added to the daemon and renamed `<name>.added`; one the
// daemon refuses is renamed `<name>.invalid` and the reason logged. A torrent already in the daemon counts
// as added (what dropping it asked for holds) and is renamed `.added` too, with a line saying so.
//
// Polled, not watched: fs.watch misses changes on network and FUSE file systems and in some containers.
// A file is read only once its size and mtime are the same on two polls in a row, so a torrent still
// being copied in is not read half-written.
import * as fs from "node:fs";
import * as path from "node:path";
import { type DaemonControl, DaemonError } from "./control.ts";

export type WatchOutcome =
  | { file: string; result: "added"; infoHash: string }
  | { file: string; result: "duplicate"; reason: string }
  | { file: string; result: "invalid"; reason: string };

const POLL_MS = 1_000;
/** A .torrent larger than this is not a torrent anyone meant (the largest real ones are a few MiB). */
const MAX_TORRENT_BYTES = 64 * 1024 * 1024;

export class WatchFolder {
  /** Per file name: its size and mtime at the last poll. */
  private readonly seen = new Map<string, string>();
  /** Files taken that could not be renamed (a read-only folder): not taken again while unchanged. */
  private readonly taken = new Map<string, string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;

  constructor(
    readonly dir: string,
    private readonly control: DaemonControl,
    private readonly report: (outcome: WatchOutcome) => void,
    private readonly pollMs = POLL_MS,
  ) {}

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => {
        this.polling = null;
        this.schedule(this.pollMs);
      });
    }, ms);
  }

  /** One pass over the folder: files stable since the last pass are taken. */
  async poll(): Promise<void> {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir).filter((n) => n.toLowerCase().endsWith(".torrent"));
    } catch {
      return; // the folder is gone or unreadable for now; the next poll tries again
    }
    const present = new Set(names);
    for (const name of this.seen.keys()) if (!present.has(name)) this.seen.delete(name);
    for (const name of this.taken.keys()) if (!present.has(name)) this.taken.delete(name);
    for (const name of names) {
      if (this.stopped) return;
      const file = path.join(this.dir, name);
      let stat: fs.Stats;
      try {
        stat = fs.lstatSync(file);
      } catch {
        continue;
      }
      if (!stat.isFile()) continue; // a folder or a symlink named *.torrent is not ours to read or rename
      const stamp = `${stat.size}:${stat.mtimeMs}`;
      if (this.taken.get(name) === stamp) continue;
      const before = this.seen.get(name);
      this.seen.set(name, stamp);
      if (before !== stamp) continue; // new, or still growing: look again next poll
      this.seen.delete(name);
      this.report(await this.take(file, stat.size));
      if (fs.existsSync(file)) this.taken.set(name, stamp);
    }
  }

  private async take(file: string, size: number): Promise<WatchOutcome> {
    const name = path.basename(file);
    if (size > MAX_TORRENT_BYTES) return this.refuse(file, `${size} bytes is too large for a .torrent`);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(fs.readFileSync(file));
    } catch (error) {
      return this.refuse(file, `cannot read it: ${(error as Error).message}`);
    }
    try {
      const infoHash = await this.control.add({ source: { torrent: bytes } });
      this.rename(file, ".added");
      return { file: name, result: "added", infoHash };
    } catch (error) {
      if (!(error instanceof DaemonError)) throw error;
      if (error.code === "duplicate") {
        this.rename(file, ".added");
        return { file: name, result: "duplicate", reason: error.message };
      }
      return this.refuse(file, error.message);
    }
  }

  private refuse(file: string, reason: string): WatchOutcome {
    this.rename(file, ".invalid");
    return { file: path.basename(file), result: "invalid", reason };
  }

  /** `x.torrent` → `x.torrent.added`; an existing file of that name is not overwritten (a number is added). */
  private rename(file: string, suffix: string): void {
    for (let n = 0; n < 1000; n++) {
      const target = n === 0 ? `${file}${suffix}` : `${file}${suffix}.${n}`;
      if (fs.existsSync(target)) continue;
      try {
        fs.renameSync(file, target);
      } catch {
        // gone meanwhile, or the folder is read-only: the file stays and is looked at again
      }
      return;
    }
  }
}
