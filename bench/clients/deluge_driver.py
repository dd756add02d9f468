#!/usr/bin/python3
"""Drives a running deluged for bench:clients through Deluge's own client library (deluge.ui.client).

  deluge_driver.py <config_dir> <daemon_port> <peer_port> <torrent> <save_dir> seed|leech

Sets the daemon up (peer port, DHT/LSD/UPnP/NAT-PMP/PEX off, no limits), adds the torrent, and prints
one JSON line per state: "added", then "seeding" (data checked complete) or "finished" (download
complete). Exit codes: 0 done, 1 failure (printed as {"event": "error"}).
"""
import base64
import json
import os
import sys

from deluge.ui.client import client
from twisted.internet import reactor, task

config_dir, daemon_port, peer_port, torrent, save_dir, role = sys.argv[1:7]


def emit(event, **fields):
    fields["event"] = event
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def fail(error):
    emit("error", message=str(error))
    reactor.stop()
    os._exit(1)


def credentials():
    with open(os.path.join(config_dir, "auth")) as f:
        for line in f:
            user, password, _level = line.strip().split(":")[:3]
            if user == "localclient":
                return user, password
    raise RuntimeError("no localclient entry in the auth file")


def on_connected(_):
    settings = {
        "listen_ports": [int(peer_port), int(peer_port)],
        "random_port": False,
        "listen_interface": "127.0.0.1",
        "dht": False,
        "lsd": False,
        "upnp": False,
        "natpmp": False,
        "utpex": False,
        "max_download_speed": -1.0,
        "max_upload_speed": -1.0,
        "max_active_downloading": -1,
        "max_active_seeding": -1,
        "max_active_limit": -1,
        "stop_seed_at_ratio": False,
        "download_location": save_dir,
        "pre_allocate_storage": False,
    }
    d = client.core.set_config(settings)
    d.addCallback(lambda _: add())
    d.addErrback(fail)


def add():
    with open(torrent, "rb") as f:
        data = base64.b64encode(f.read()).decode()
    d = client.core.add_torrent_file(os.path.basename(torrent), data, {"download_location": save_dir, "add_paused": False})
    d.addCallback(added)
    d.addErrback(fail)


def added(torrent_id):
    emit("added", id=torrent_id)
    wanted = "Seeding"

    def check():
        d = client.core.get_torrent_status(torrent_id, ["state", "progress", "is_finished"])
        d.addCallback(lambda s: report(s))
        d.addErrback(fail)

    def report(status):
        if status.get("state") == "Error":
            fail("the torrent is in Error state")
        if status.get("is_finished") and status.get("state") == wanted:
            emit("seeding" if role == "seed" else "finished")
            loop.stop()

    loop = task.LoopingCall(check)
    loop.start(0.05)


user, password = credentials()
d = client.connect("127.0.0.1", int(daemon_port), user, password)
d.addCallback(on_connected)
d.addErrback(fail)
reactor.run()
