// What a torrent's parts call back (the DHT link, downloader, tracker, connections, the check): one object
// of methods over the torrent's parts (TorrentParts, seen here as a HookedTorrent), not a closure per
// callback, as a daemon holds thousands of torrents.
import type { PeerAddress } from "../../shared/compact.ts";
import type { Downloader, DownloaderHooks } from "../pieces/downloader.ts";
import { StorageError } from "../storage/errors.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import type { AnnouncerHooks } from "../tracker/tracker-announcer.ts";
import type { AnnounceStats } from "../tracker/tracker-client.ts";
import type { Uploader } from "../upload/uploader.ts";
import type { TorrentCheckHooks } from "./check.ts";
import type { TorrentEvent } from "./events.ts";
import type { PeerErrorCode } from "./exit-codes.ts";
import type { ProgressReport } from "./progress-report.ts";
import type { TorrentLifecycle } from "./state.ts";
import type { TorrentDhtHooks, TorrentDhtLink } from "./torrent-dht.ts";
import type { TorrentPeers, TorrentPeersHooks } from "./torrent-peers.ts";

/** The torrent's parts and steps its hooks reach. */
export interface HookedTorrent {
  readonly peers: Map<number, SwarmPeer>;
  readonly swarm: TorrentPeers;
  readonly downloader: Downloader;
  readonly uploader: Uploader;
  readonly dht: TorrentDhtLink;
  readonly report: ProgressReport;
  readonly lifecycle: TorrentLifecycle;
  peersFound(peers: PeerAddress[]): void;
  emit(event: TorrentEvent): void;
  pieceDone(index: number): void;
  knowsPeers(): boolean;
  fail(code: PeerErrorCode, message: string): void;
  checked(count: number): void;
}

export class TorrentHooks implements TorrentDhtHooks, DownloaderHooks, AnnouncerHooks, TorrentPeersHooks, TorrentCheckHooks {
  constructor(private readonly t: HookedTorrent) {}
  peersFound(peers: PeerAddress[]): void {
    this.t.peersFound(peers);
  }
  emit(event: TorrentEvent): void {
    this.t.emit(event);
  }
  wantsPeers(): boolean {
    return this.t.lifecycle.state === "downloading" && this.t.peers.size === 0;
  }
  peers(): Iterable<SwarmPeer> {
    return this.t.peers.values();
  }
  pieceDone(index: number): void {
    this.t.pieceDone(index);
  }
  pieceFailed(index: number, senders: SwarmPeer[], parole: boolean): void {
    this.t.emit({ event: "piece-failed", index, peers: senders.map((p) => p.label), parole });
  }
  ban(peer: SwarmPeer, reason: string): void {
    this.t.swarm.gate.ban(peer, reason);
  }
  writeFailed(error: unknown): void {
    this.storageFailed(error);
  }
  storageFailed(error: unknown): void {
    if (!(error instanceof StorageError)) throw error; // a bug, not a disk's trouble
    this.t.fail(error.code, error.message);
  }
  stats(): AnnounceStats {
    return { uploaded: this.t.uploader.uploaded, downloaded: this.t.downloader.downloaded, left: this.t.report.bytesLeft() };
  }
  knowsPeers(): boolean {
    return this.t.knowsPeers();
  }
  fatal(code: PeerErrorCode, message: string): void {
    this.t.fail(code, message);
  }
  live(): boolean {
    return this.t.lifecycle.live;
  }
  dhtPort(): number | undefined {
    return this.t.dht.port();
  }
  portMessage(ip: string, port: number): void {
    this.t.dht.portMessage(ip, port);
  }
  stillChecking(): boolean {
    return this.t.lifecycle.state === "checking";
  }
  checked(count: number): void {
    this.t.checked(count);
  }
}
