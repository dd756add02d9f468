#!/usr/bin/python3
"""libtorrent as the reference implementation for .torrent files, for the interop tests.

Run with Debian's /usr/bin/python3 (python3-libtorrent). Every subcommand prints one JSON object.

  create <source> <out.torrent> [--piece-length N] [--tracker URL]... [--v1-only]
      libtorrent makes the torrent (hybrid v1+v2 with padding files unless --v1-only).
  info <file.torrent>
      {"infoHash", "name", "pieceLength", "numPieces", "totalSize", "pieceHashes": [hex...],
       "files": [{"path", "length", "pad"}], "trackers": [[url...] per tier]}
  check <file.torrent> <save_dir>
      libtorrent checks the data in <save_dir> against the torrent:
      {"numPieces", "piecesPassed", "seeding", "error"}
Network: none beyond loopback (no DHT, LSD, UPnP or NAT-PMP; listens on 127.0.0.1 only).
"""
import argparse
import json
import os
import sys
import time

import libtorrent as lt


def cmd_create(args):
    fs = lt.file_storage()
    lt.add_files(fs, args.source)
    flags = lt.create_torrent.v1_only if args.v1_only else 0
    t = lt.create_torrent(fs, args.piece_length, flags=flags)
    for tier, url in enumerate(args.tracker or []):
        t.add_tracker(url, tier)
    t.set_creator("libtorrent test tools")
    lt.set_piece_hashes(t, os.path.dirname(os.path.abspath(args.source)))
    with open(args.out, "wb") as f:
        f.write(lt.bencode(t.generate()))
    print(json.dumps({"out": args.out}))


def cmd_info(args):
    ti = lt.torrent_info(args.torrent)
    files = ti.files()
    tiers = {}
    for tr in ti.trackers():
        tiers.setdefault(tr.tier, []).append(tr.url)
    print(json.dumps({
        "infoHash": str(ti.info_hashes().v1),
        "name": ti.name(),
        "pieceLength": ti.piece_length(),
        "numPieces": ti.num_pieces(),
        "totalSize": ti.total_size(),
        "pieceHashes": [bytes(ti.hash_for_piece(i)).hex() for i in range(ti.num_pieces())],
        "files": [
            {
                "path": files.file_path(i).replace(os.sep, "/"),
                "length": files.file_size(i),
                "pad": bool(files.file_flags(i) & lt.file_storage.flag_pad_file),
            }
            for i in range(files.num_files())
        ],
        "trackers": [tiers[k] for k in sorted(tiers)],
    }))


def cmd_check(args):
    session = lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "alert_mask": lt.alert.category_t.status_notification | lt.alert.category_t.error_notification,
    })
    ti = lt.torrent_info(args.torrent)
    atp = lt.add_torrent_params()
    atp.ti = ti
    atp.save_path = args.save_dir
    handle = session.add_torrent(atp)
    deadline = time.time() + args.timeout
    error = None
    checked = False
    while time.time() < deadline and not checked:
        session.wait_for_alert(500)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.torrent_checked_alert):
                checked = True
            elif isinstance(alert, lt.torrent_error_alert):
                error = alert.message()
                checked = True
    status = handle.status()
    passed = sum(1 for i in range(ti.num_pieces()) if handle.have_piece(i))
    print(json.dumps({
        "numPieces": ti.num_pieces(),
        "piecesPassed": passed,
        "seeding": status.is_seeding,
        "checked": checked,
        "error": error,
    }))
    session.remove_torrent(handle)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("create")
    c.add_argument("source")
    c.add_argument("out")
    c.add_argument("--piece-length", type=int, default=0)
    c.add_argument("--tracker", action="append")
    c.add_argument("--v1-only", action="store_true")
    i = sub.add_parser("info")
    i.add_argument("torrent")
    k = sub.add_parser("check")
    k.add_argument("torrent")
    k.add_argument("save_dir")
    k.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    {"create": cmd_create, "info": cmd_info, "check": cmd_check}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
