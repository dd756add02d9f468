// A daemon's torrent (entry-run.ts: its record, its Torrent, totals), and letting it go while it has
// nothing to do.
//
// Dormant: a seeding torrent with nothing to do (Torrent.dormant: no peer, no announce under way, no goal
// on a clock) is let go once it has started or gone idle. The entry then keeps its record and a few facts for
// the lists, not its Metainfo (piece hashes, file list) nor any part of a Torrent: a daemon seeding
// thousands holds little for each. The client keeps its info hash; a peer's handshake naming it, or a
// request that needs the torrent (pause, recheck, settings), makes it again from the stored metainfo and
// the pieces it had, without a check or a `started` of its own.
import { Bitfield } from "../../shared/bitfield.ts";
import type { DormantTorrent } from "../client/client.ts";
import type { TorrentEvent } from "../torrent/events.ts";
import type { Torrent } from "../torrent/torrent.ts";
import { wantedFilesChanged } from "./entry-settings.ts";
import { bytesOf, factsOf, keptBytes, NO_RUN, recheckOf } from "./entry-facts.ts";
import { withTrackers } from "../../shared/metainfo/with-trackers.ts";
import { EntryRun } from "./entry-run.ts";
import { dormantStartEvents, type StoredStart, startsDormant } from "./dormant-start.ts";
import { firstCarry } from "../tracker/tracker-announcer.ts";
import { goalsOf, prioritiesOf } from "./torrent-settings.ts";

export type { StoredOptions } from "./torrent-settings.ts";
export type { EntryContext, EntryRecord } from "./entry-run.ts";
export type { EntryFacts } from "./entry-facts.ts";

export class TorrentEntry extends EntryRun {
  get dormant(): boolean {
    return this.asleep;
  }

  /** Its trackers' last outcomes: the running torrent's, or those of its announces while dormant. */
  trackers(): ReturnType<Torrent["trackers"]> | null {
    if (this.torrent) return this.torrent.trackers();
    return this.asleep ? this.ctx.client.dormantTrackers(this.infoHash) : null;
  }

  /** The pieces it has: the running torrent's, or those it had when it went dormant; null in `error`. */
  get pieces(): Bitfield | null {
    if (this.torrent) return this.torrent.have;
    if (!this.asleep) return null;
    return this.dormantHave ?? Bitfield.full(this.facts.pieceCount);
  }

  /** The running torrent, made again first if it is dormant; null in `error`. */
  awake(): Torrent | null {
    if (this.asleep) this.ctx.client.wake(this.infoHash);
    return this.torrent;
  }

  /**
   * The client's DormantTorrent: makes the torrent again from the stored metainfo and the pieces it had,
   * and starts it quietly, serving at once (no check) when its wanted files are as the state stamped them.
   * A file changed or gone meanwhile is found as a restart finds it: the torrent checks what the resume
   * plan cannot trust first. Null if its storage cannot be opened.
   */
  wake(woken: Parameters<DormantTorrent["wake"]>[0]): Torrent | null {
    const meta = this.meta;
    const have = this.dormantHave ?? Bitfield.full(meta.pieceCount);
    this.asleep = false;
    this.dormantHave = null;
    this.current = meta;
    this.waking = true;
    // Not written yet, its stamps are the writer's to take: nothing could have changed since it went dormant.
    if (!this.ctx.writer.tracks(meta.infoHash) && wantedFilesChanged(meta, this.layout(), this.ctx.store.getResume(meta.infoHash), this.options)) {
      this.tracked = false; // its `checked` tracks it anew
      const settings = this.settings(0, true);
      if (!settings) return null;
      this.attach(this.ctx.client.addTorrent({ ...settings, ...woken, announce: woken.announce ?? undefined }));
      this.torrent!.start();
      return this.torrent;
    }
    const storage = this.openStorage(meta);
    if (!storage) return null;
    this.have = have;
    const settings = this.torrentSettings(meta, storage, have, undefined, 0);
    const torrent = this.ctx.client.addTorrent({ ...settings, peers: woken.peers, announce: woken.announce ?? undefined });
    this.torrent = torrent;
    this.ctx.writer.track(meta.infoHash, this.layout(), { bitfield: have, ...this.totals() }, true);
    torrent.start();
    return torrent;
  }

  /** Its tracker tiers (BEP 12) as configured: the stored .torrent's, changed by setTrackers. */
  get tiers(): string[][] {
    return this.meta.announceList;
  }

  /**
   * Its trackers changed: stored in its .torrent (the info dictionary as it was, so a restart has them), and
   * the torrent, made again if it is dormant, announces to them from now on (TrackerAnnouncer.setTrackers).
   */
  setTrackers(tiers: string[][]): void {
    const stored = this.ctx.store.getTorrent(this.record.infoHash);
    if (!stored) throw new Error(`torrent ${this.infoHash} is not in the state`);
    this.ctx.store.setMetainfo(this.record.infoHash, withTrackers(stored.metainfo, tiers));
    const torrent = this.awake(); // made again from the stored .torrent, now with these
    if (this.current) this.current = { ...this.current, announceList: tiers };
    this.facts = factsOf(this.meta, this.options);
    torrent?.setTrackers(tiers);
  }

  /** The client announced for it while dormant: its listeners hear of it as from a running torrent. */
  announced(event: TorrentEvent): void {
    this.ctx.emit(event, this);
  }

  /** Lets the torrent go if it is dormant (the client keeps its info hash), keeping what the lists show. */
  private sleep(): void {
    const torrent = this.torrent;
    if (!torrent || !this.tracked || !this.ctx.client.sleep(torrent, this)) return;
    const totals = this.totals();
    const run = this.runTotals();
    this.slept = run.uploaded === 0 && run.downloaded === 0 && run.failedPieces === 0 ? NO_RUN : run;
    if (totals.uploaded !== this.lastTotals.uploaded || totals.downloaded !== this.lastTotals.downloaded) {
      this.lastTotals = keptBytes(totals);
      this.ctx.writer.setTotals(this.record.infoHash, totals.uploaded, totals.downloaded);
    }
    this.dormantHave = torrent.have.isComplete() ? null : torrent.have;
    this.asleep = true;
    this.torrent = null;
    this.have = null;
    this.current = null;
    this.writerLayout = null;
    this.ctx.writer.release(this.record.infoHash);
    this.ctx.rested();
  }

  /**
   * Start-up: dormant at once when the resume plan trusts it whole and it would have nothing to do
   * (dormant-start.ts); otherwise built and started as open() does.
   */
  startStored(announceDelayMs: number): void {
    const { meta, ctx, options } = this;
    const planned = this.plan(meta);
    const priorities = prioritiesOf(meta, options);
    const recheck = recheckOf(meta, planned.plan, priorities);
    const start: StoredStart = {
      meta,
      have: planned.plan.verified,
      recheck: recheck.reduce((n, r) => n + r, 0),
      priorities,
      paused: this.record.state === "paused",
      goals: goalsOf(options),
    };
    if (!startsDormant(start)) return this.open(announceDelayMs, false, planned);
    const resume = planned.resume;
    this.base = bytesOf(resume);
    this.lastTotals = this.base;
    this.tracked = true; // the state holds its resume data as it stands
    this.dormantHave = start.have.isComplete() ? null : start.have;
    ctx.client.addDormant(meta.infoHash, this, {
      announce: firstCarry(meta, ctx.client.peerId, ctx.client.port, announceDelayMs, () => ctx.client.announceScope()),
      dht: !meta.private,
    });
    this.asleep = true;
    this.current = null;
    this.writerLayout = null;
    const limits = { port: ctx.client.port, uploadLimit: options.uploadLimit ?? null, downloadLimit: options.downloadLimit ?? null };
    for (const event of dormantStartEvents(start, limits)) ctx.emit(event, this);
    ctx.rested();
  }

  /** Once the torrent's step that said it has ended (a torrent with a step under way is not dormant). */
  protected sleepSoon(): void {
    setImmediate(() => this.sleep());
  }
}
