#!/usr/bin/python3
"""A libtorrent peer for tests and benchmarks, driven from the command line, reporting JSON lines.

Run with Debian's /usr/bin/python3 (python3-libtorrent lives there). Loopback only, TCP only,
no LSD/UPnP/NAT-PMP, and no DHT unless --dht is given, so a peer finds others only through the given
--peer addresses, the torrent's trackers, or (with --dht) the DHT nodes given by --dht-node.

  lt_peer.py seed     <torrent> <save_dir> [--port N] [--peer HOST:PORT]... [--tracker-only|--no-trackers]
  lt_peer.py download <torrent> <save_dir> [...same] [--exit-when-done | --keep-seeding] [--timeout S]
  (download: <torrent> may be a magnet link; its x.pe peers and --peer are dialled for the metadata)
  [--encryption forced|enabled|disabled] [--enc-level rc4|plaintext|both] [--prefer-rc4]   (MSE/PE)
  [--dht] [--dht-node HOST:PORT]... [--dht-read-only]   the DHT on the listen port (UDP), on loopback,
                                      starting from these nodes; read-only (BEP 43): it answers no query
  [--upload-limit B/s] [--download-limit B/s] [--no-unchoke] [--allowed-fast N] [--choke-at BYTES --choke-for S] [--peer-log] [--list-peers]

Every line on stdout is one JSON object with an "event" field:
  listening {port}          the TCP port peers can connect to
  metadata  {pieces}        a magnet link's metadata arrived (ut_metadata)
  checked   {pieces, have}  the data on disk was checked
  seeding                   ready to upload (seed: data verified complete)
  status    {...}           about every --interval seconds
  piece-failed {piece}      a downloaded piece failed its hash
  peer-log  {ip, port, dir, msg, text}   --peer-log: a wire message libtorrent sent ("out") or read ("in")
  peers     {peers: [{ip, port, source, outgoing, client}]}   --list-peers: the connected peers, each status
  choked-all / unchoked-all  --choke-at: libtorrent stopped unchoking anyone / started again
  tracker-error / tracker-reply / peer-error   diagnostics, not fatal
  finished  {...}           download complete and flushed to disk
  stopped   {...}           on SIGTERM/SIGINT, after a clean shutdown
  dht-nodes {nodes: ["ip:port"...]}   (--dht) the DHT routing table, about every --interval seconds
  dht-announce {ih, ip, port}        (--dht) a node announced itself to our DHT node for a torrent
  error     {message}       fatal; the exit code is non-zero
Exit codes: 0 done, 2 bad usage/torrent, 3 data mismatch (seed), 4 timeout, 5 libtorrent error.
"""
import argparse
import json
import os
import signal
import sys
import time
import warnings

import libtorrent as lt

EXIT_USAGE, EXIT_MISMATCH, EXIT_TIMEOUT, EXIT_LT = 2, 3, 4, 5


def emit(event, **fields):
    fields["event"] = event
    fields["t"] = round(time.time(), 3)
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def fail(code, message):
    emit("error", message=message, code=code)
    sys.stderr.write("lt_peer: " + message + "\n")
    sys.exit(code)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="lt_peer.py")
    p.add_argument("mode", choices=["seed", "download"])
    p.add_argument("torrent")
    p.add_argument("save_dir")
    p.add_argument("--port", type=int, default=0, help="listen on 127.0.0.1:N (0: any free port)")
    p.add_argument("--peer", action="append", default=[], help="HOST:PORT to connect to (repeatable)")
    p.add_argument("--tracker-only", action="store_true", help="find peers only through the torrent's trackers (no --peer, no PEX)")
    p.add_argument("--no-trackers", action="store_true", help="ignore the torrent's trackers")
    done = p.add_mutually_exclusive_group()
    done.add_argument("--exit-when-done", action="store_true")
    done.add_argument("--keep-seeding", action="store_true")
    p.add_argument("--timeout", type=float, default=0, help="seconds to reach completion, else exit 4 (0: none)")
    p.add_argument("--max-life", type=float, default=900, help="hard bound on the process lifetime in seconds")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between status lines")
    p.add_argument("--high-performance", action="store_true", help="start from libtorrent's high_performance_seed preset")
    p.add_argument("--encryption", choices=["forced", "enabled", "disabled"], default="enabled",
                   help="MSE/PE policy for incoming and outgoing connections (out_enc_policy/in_enc_policy)")
    p.add_argument("--enc-level", choices=["rc4", "plaintext", "both"], default="both",
                   help="allowed_enc_level: which payload methods an MSE handshake may select")
    p.add_argument("--prefer-rc4", action="store_true", help="select RC4 over plaintext when the peer offers both")
    p.add_argument("--dht", action="store_true", help="run libtorrent's DHT (loopback restrictions off)")
    p.add_argument("--dht-node", action="append", default=[], help="HOST:PORT of a DHT node to start from (repeatable)")
    p.add_argument("--dht-read-only", action="store_true", help="BEP 43: the DHT node asks but answers no query")
    p.add_argument("--upload-limit", type=int, default=0, help="upload rate limit in bytes/s (0: none)")
    p.add_argument("--download-limit", type=int, default=0, help="download rate limit in bytes/s (0: none)")
    p.add_argument("--no-unchoke", action="store_true", help="never unchoke anyone (unchoke_slots_limit 0)")
    p.add_argument("--allowed-fast", type=int, default=-1, help="allowed_fast_set_size (BEP 6 pieces served while choked; default libtorrent's)")
    p.add_argument("--choke-at", type=int, default=0, help="stop unchoking anyone once this many payload bytes went up")
    p.add_argument("--choke-for", type=float, default=5, help="seconds until --choke-at unchokes again")
    p.add_argument("--peer-log", action="store_true", help="report the wire messages libtorrent logs (peer-log events)")
    p.add_argument("--list-peers", action="store_true", help="report the connected peers with each status (peers events)")
    a = p.parse_args(argv)
    if a.dht_node and not a.dht:
        fail(EXIT_USAGE, "--dht-node needs --dht")
    if a.tracker_only and (a.peer or a.no_trackers):
        fail(EXIT_USAGE, "--tracker-only cannot be combined with --peer or --no-trackers")
    return a


def parse_peer(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        fail(EXIT_USAGE, "bad --peer %r: expected HOST:PORT" % text)
    return (host.strip("[]"), int(port))


def session_settings(args):
    s = lt.high_performance_seed() if args.high_performance else lt.default_settings()
    s.update({
        "listen_interfaces": "127.0.0.1:%d" % args.port,
        "listen_system_port_fallback": False,
        "enable_dht": bool(args.dht),
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_tcp": True,
        "enable_outgoing_tcp": True,
        # Every test peer shares 127.0.0.1; by default libtorrent keeps one connection per IP.
        "allow_multiple_connections_per_ip": True,
        # With SSRF mitigation on, libtorrent refuses a tracker on a local address unless its path is
        # exactly /announce, and drops some local peers; tests run everything on loopback.
        "ssrf_mitigation": False,
        "download_rate_limit": args.download_limit,
        "upload_rate_limit": args.upload_limit,
        "announce_to_all_trackers": True,
        "announce_to_all_tiers": True,
        "out_enc_policy": int(getattr(lt.enc_policy, args.encryption)),
        "in_enc_policy": int(getattr(lt.enc_policy, args.encryption)),
        "allowed_enc_level": int(getattr(lt.enc_level, args.enc_level)),
        "prefer_rc4": args.prefer_rc4,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.tracker_notification
        | lt.alert.category_t.storage_notification,
    })
    if args.no_unchoke:
        s["unchoke_slots_limit"] = 0
    if args.allowed_fast >= 0:
        s["allowed_fast_set_size"] = args.allowed_fast
    if args.peer_log:
        s["alert_mask"] = s["alert_mask"] | lt.alert.category_t.peer_log_notification
    if args.dht:
        s.update({
            "dht_bootstrap_nodes": ",".join(args.dht_node),
            # Loopback: every node shares 127.0.0.1 and none has a BEP 42 id for it.
            "dht_restrict_routing_ips": False,
            "dht_restrict_search_ips": False,
            "dht_prefer_verified_node_ids": False,
            "dht_enforce_node_id": False,
            "dht_ignore_dark_internet": False,
            "dht_block_ratelimit": 10000,
            "dht_read_only": bool(args.dht_read_only),
        })
        s["alert_mask"] |= lt.alert.category_t.dht_notification | lt.alert.category_t.dht_operation_notification
    return s


def own_node_id(ses):
    """The id of the session's DHT node: dht_live_nodes wants it to pick the node."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ids = ses.dht_state()[b"node-id"]
    return lt.sha1_hash(ids[0][:20])


# The wire messages --peer-log reports (libtorrent logs far more: handshakes, buffers, timers).
LOGGED_MESSAGES = ("HAVE_ALL", "HAVE_NONE", "ALLOWED_FAST", "REJECT_PIECE", "SUGGEST", "BITFIELD", "CHOKE", "UNCHOKE",
                   "PEX", "PEX_DIFF", "EXTENDED_HANDSHAKE", "INTERESTED")


def make_session(args):
    # Without the default plugins there is no ut_pex, so --tracker-only really means tracker only.
    flags = 0 if args.tracker_only else lt.session_flags_t.add_default_plugins
    ses = lt.session(session_settings(args), flags)
    if args.tracker_only:
        ses.add_extension("ut_metadata")
        ses.add_extension("smart_ban")
    # Bootstrap nodes never enter libtorrent's routing table; these are added as ordinary nodes too.
    for node in args.dht_node:
        ses.add_dht_node(parse_peer(node))
    if args.upload_limit or args.download_limit or args.no_unchoke or args.choke_at:
        # Loopback peers are in libtorrent's "local" class, which skips unchoke slots and rate limits:
        # these options must hold for them too, so every peer is put in the global class alone.
        everyone = lt.ip_filter()
        everyone.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
        everyone.add_rule("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 << lt.session.global_peer_class_id)
        ses.set_peer_class_filter(everyone)
    return ses


def add_magnet(ses, args):
    try:
        params = lt.parse_magnet_uri(args.torrent)
    except Exception as e:
        fail(EXIT_USAGE, "cannot read magnet link %s: %s" % (args.torrent, e))
    os.makedirs(args.save_dir, exist_ok=True)
    params.save_path = args.save_dir
    if args.no_trackers:
        params.trackers = []
    params.flags &= ~lt.torrent_flags.auto_managed
    params.flags &= ~lt.torrent_flags.paused
    return ses.add_torrent(params), None


def add_torrent(ses, args):
    if args.torrent.startswith("magnet:"):
        if args.mode != "download":
            fail(EXIT_USAGE, "a magnet link can only be downloaded")
        return add_magnet(ses, args)
    try:
        info = lt.torrent_info(args.torrent)
    except Exception as e:  # libtorrent raises RuntimeError with its own message
        fail(EXIT_USAGE, "cannot read torrent %s: %s" % (args.torrent, e))
    if not os.path.isdir(args.save_dir):
        if args.mode == "seed":
            fail(EXIT_USAGE, "seed directory %s does not exist" % args.save_dir)
        os.makedirs(args.save_dir, exist_ok=True)
    params = lt.add_torrent_params()
    params.ti = info
    params.save_path = args.save_dir
    if args.no_trackers:
        info.clear_trackers() if hasattr(info, "clear_trackers") else None
        params.trackers = []
    # Not auto-managed: the queueing logic must not pause a test torrent.
    params.flags &= ~lt.torrent_flags.auto_managed
    params.flags &= ~lt.torrent_flags.paused
    h = ses.add_torrent(params)
    if args.no_trackers:
        h.replace_trackers([])
    return h, info


def status_fields(st):
    return {
        "state": str(st.state),
        "progress": round(st.progress, 6),
        "download_rate": st.download_payload_rate,
        "upload_rate": st.upload_payload_rate,
        "total_download": st.total_payload_download,
        "total_upload": st.total_payload_upload,
        "num_peers": st.num_peers,
        "num_seeds": st.num_seeds,
        "pieces_have": st.num_pieces,
        "errc": st.errc.message() if st.errc.value() != 0 else None,
    }


class Peer:
    def __init__(self, args):
        self.args = args
        self.start = time.time()
        self.stop_requested = False
        self.ses = make_session(args)
        self.h, self.info = add_torrent(self.ses, args)
        self.peers = [parse_peer(p) for p in args.peer]
        self.checked = False
        self.done = False
        self.last_connect = 0.0
        self.last_dht_announce = time.time()
        self.flushed = False
        self.choked_at = None

    def handle_alert(self, a):
        if isinstance(a, lt.listen_succeeded_alert):
            if a.socket_type == lt.socket_type_t.tcp:
                emit("listening", port=a.port, address=str(a.address))
        elif isinstance(a, lt.listen_failed_alert):
            fail(EXIT_LT, "cannot listen on 127.0.0.1:%d: %s" % (self.args.port, a.message()))
        elif isinstance(a, lt.hash_failed_alert):
            emit("piece-failed", piece=a.piece_index)
        elif isinstance(a, lt.tracker_error_alert):
            emit("tracker-error", url=a.tracker_url(), message=a.message())
        elif isinstance(a, lt.tracker_reply_alert):
            emit("tracker-reply", url=a.tracker_url(), peers=a.num_peers)
        elif isinstance(a, lt.tracker_warning_alert):
            emit("tracker-warning", url=a.tracker_url(), message=a.message())
        elif isinstance(a, (lt.file_error_alert, lt.torrent_error_alert)):
            fail(EXIT_LT, a.message())
        elif isinstance(a, lt.cache_flushed_alert):
            self.flushed = True
        elif isinstance(a, lt.metadata_received_alert):
            self.info = self.h.torrent_file()
            emit("metadata", pieces=self.info.num_pieces())
        elif isinstance(a, lt.torrent_checked_alert):
            if self.info is None:
                self.info = self.h.torrent_file()
            self.on_checked(self.h.status())
        elif isinstance(a, lt.dht_live_nodes_alert):
            emit("dht-nodes", nodes=["%s:%d" % tuple(n["endpoint"]) for n in a.nodes])
        elif isinstance(a, lt.dht_announce_alert):
            emit("dht-announce", ih=str(a.info_hash), ip=str(a.ip), port=a.port)
        elif isinstance(a, lt.peer_log_alert):
            self.on_peer_log(a)

    def on_peer_log(self, a):
        # libtorrent's own names for what went over the wire: "==> X" sent, "<== X" read.
        text = a.message()
        for arrow, direction in (("==> ", "out"), ("<== ", "in")):
            at = text.find(arrow)
            if at < 0:
                continue
            name = text[at + 4:].split(" ")[0].strip("[]")
            if name in LOGGED_MESSAGES:
                emit("peer-log", ip=str(a.ip[0]), port=a.ip[1], dir=direction, msg=name, text=text[at:at + 200])

    def pump_alerts(self, wait_ms):
        self.ses.wait_for_alert(wait_ms)
        for a in self.ses.pop_alerts():
            self.handle_alert(a)

    def on_checked(self, st):
        self.checked = True
        emit("checked", pieces=self.info.num_pieces(), have=st.num_pieces)
        if self.args.mode == "seed":
            if not st.is_seeding:
                fail(EXIT_MISMATCH, "data in %s does not match %s: %d of %d pieces verified"
                     % (self.args.save_dir, self.args.torrent, st.num_pieces, self.info.num_pieces()))
            emit("seeding", pieces=st.num_pieces)

    def connect_peers(self, st):
        # Retry direct peers that are not connected yet (they may start listening after us).
        now = time.time()
        if not self.peers or now - self.last_connect < 2 or st.num_peers >= len(self.peers):
            return
        self.last_connect = now
        for p in self.peers:
            self.h.connect_peer(p)

    def list_peers(self):
        peers = []
        for p in self.h.get_peer_info():
            peers.append({"ip": str(p.ip[0]), "port": p.ip[1], "source": int(p.source),
                          "outgoing": bool(p.flags & lt.peer_info.outgoing_connection), "client": str(p.client),
                          # requests libtorrent has out to the peer, and the peer's requests queued with it
                          "download_queue": p.download_queue_length, "upload_queue": p.upload_queue_length})
        emit("peers", peers=peers)

    def choke_schedule(self, st, now):
        # --choke-at: stop unchoking anyone (libtorrent chokes its peers at the next round, rejecting what a
        # fast peer has queued), then unchoke again --choke-for seconds later.
        if not self.args.choke_at:
            return
        if self.choked_at is None and st.total_payload_upload >= self.args.choke_at:
            self.choked_at = now
            self.ses.apply_settings({"unchoke_slots_limit": 0})
            emit("choked-all", uploaded=st.total_payload_upload)
        elif self.choked_at is not None and self.choked_at > 0 and now - self.choked_at >= self.args.choke_for:
            self.choked_at = -1
            self.ses.apply_settings({"unchoke_slots_limit": 8})
            emit("unchoked-all", uploaded=st.total_payload_upload)

    def flush(self):
        self.flushed = False
        self.h.flush_cache()
        deadline = time.time() + 30
        while not self.flushed and time.time() < deadline:
            self.pump_alerts(200)

    def run(self):
        last_status = 0.0
        while not self.stop_requested:
            self.pump_alerts(100)
            st = self.h.status()
            if self.checked or self.info is None:  # a magnet link needs its peers for the metadata
                self.connect_peers(st)
            now = time.time()
            # libtorrent looks a torrent up on the DHT when it is added and then every 15 minutes: one
            # added before its DHT had any node would wait that long. A test peer with no peer asks again.
            if self.args.dht and st.num_peers == 0 and not st.is_seeding and now - self.last_dht_announce >= 5:
                self.last_dht_announce = now
                self.h.force_dht_announce()
            if now - last_status >= self.args.interval:
                last_status = now
                emit("status", **status_fields(st))
                if self.args.dht:
                    self.ses.dht_live_nodes(own_node_id(self.ses))
                if self.args.list_peers:
                    self.list_peers()
            self.choke_schedule(st, now)
            if self.args.mode == "download" and not self.done and st.is_seeding:
                self.done = True
                self.flush()
                elapsed = time.time() - self.start
                emit("finished", seconds=round(elapsed, 3), **status_fields(self.h.status()))
                if not self.args.keep_seeding:
                    return 0
            if self.args.timeout and not self.done and self.args.mode == "download" and now - self.start > self.args.timeout:
                fail(EXIT_TIMEOUT, "download not complete after %.0f s: progress %.1f%%, %d peers"
                     % (self.args.timeout, st.progress * 100, st.num_peers))
            if now - self.start > self.args.max_life:
                emit("max-life", seconds=self.args.max_life)
                break
            if os.getppid() == 1:  # the parent died: do not linger as a stray process
                break
        self.flush()
        emit("stopped", **status_fields(self.h.status()))
        return 0


def main():
    args = parse_args(sys.argv[1:])
    peer = Peer(args)

    def on_signal(signum, frame):
        peer.stop_requested = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    code = peer.run()
    del peer.ses  # the session destructor waits for outstanding disk I/O
    sys.exit(code)


if __name__ == "__main__":
    main()
