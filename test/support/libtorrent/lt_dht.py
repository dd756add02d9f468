#!/usr/bin/python3
"""A libtorrent DHT node for tests, on loopback, driven by JSON commands on stdin, reporting JSON lines.

Run with Debian's /usr/bin/python3. Only the DHT: no LSD/UPnP/NAT-PMP, no uTP; the session listens on
127.0.0.1 (TCP and the DHT's UDP socket share the port). Loopback restrictions of the DHT are off, so
nodes on 127.0.0.1 with any id are routed and searched.

  lt_dht.py --bootstrap HOST:PORT [--bootstrap ...] [--max-life S]

Events (stdout): listening {port}; bootstrapped; peers {ih, peers: ["ip:port"...]} (a dht_get_peers
lookup finished); torrent-added {ih}; torrent-peers {ih, peers}; live-nodes {nodes: [{id, endpoint}]}; stats {nodes}; error {message}.
Commands (stdin, one JSON object a line):
  {"cmd": "get_peers", "ih": HEX}              run a get_peers lookup
  {"cmd": "add_torrent", "ih": HEX, "dir": D} add a torrent by info hash alone (no trackers): libtorrent
                                               then looks it up and announces its port on the DHT
  {"cmd": "live_nodes"}                        the nodes of the routing table
  {"cmd": "add_node", "host": H, "port": N}    add a node to ask
"""
import argparse
import json
import select
import sys
import time
import warnings

import libtorrent as lt


def emit(event, **fields):
    fields["event"] = event
    fields["t"] = round(time.time(), 3)
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def own_node_id(ses):
    """The id of the session's (only) DHT node: dht_live_nodes wants it to pick the node."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ids = ses.dht_state()[b"node-id"]
    return lt.sha1_hash(ids[0][:20])


def main():
    p = argparse.ArgumentParser(prog="lt_dht.py")
    p.add_argument("--bootstrap", action="append", default=[])
    p.add_argument("--max-life", type=float, default=300)
    args = p.parse_args()
    settings = lt.default_settings()
    settings.update({
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": True,
        "dht_bootstrap_nodes": ",".join(args.bootstrap),
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        # Loopback: every node shares 127.0.0.1 and none has a BEP 42 id for it.
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_prefer_verified_node_ids": False,
        "dht_enforce_node_id": False,
        "dht_ignore_dark_internet": False,
        "dht_block_ratelimit": 10000,
        "ssrf_mitigation": False,
        "alert_mask": lt.alert.category_t.dht_notification | lt.alert.category_t.dht_operation_notification | lt.alert.category_t.status_notification | lt.alert.category_t.error_notification,
    })
    ses = lt.session(settings)
    start = time.time()
    torrents = []
    while time.time() - start < args.max_life:
        ses.wait_for_alert(100)
        for a in ses.pop_alerts():
            if isinstance(a, lt.listen_succeeded_alert) and a.socket_type == lt.socket_type_t.udp:
                emit("listening", port=a.port)
            elif isinstance(a, lt.listen_failed_alert):
                emit("error", message=a.message())
            elif isinstance(a, lt.dht_bootstrap_alert):
                emit("bootstrapped")
            elif isinstance(a, lt.dht_get_peers_reply_alert):
                emit("peers", ih=str(a.info_hash), peers=["%s:%d" % (ip, port) for ip, port in a.peers()])
            elif isinstance(a, lt.dht_live_nodes_alert):
                emit("live-nodes", nodes=[{"id": str(n["nid"]), "endpoint": "%s:%d" % tuple(n["endpoint"])} for n in a.nodes])
            elif isinstance(a, lt.dht_announce_alert):
                emit("announce-received", ih=str(a.info_hash), ip=str(a.ip), port=a.port)
        ready, _, _ = select.select([sys.stdin], [], [], 0)
        if not ready:
            continue
        line = sys.stdin.readline()
        if line == "":
            return
        cmd = json.loads(line)
        if cmd["cmd"] == "get_peers":
            ses.dht_get_peers(lt.sha1_hash(bytes.fromhex(cmd["ih"])))
        elif cmd["cmd"] == "add_torrent":
            params = lt.parse_magnet_uri("magnet:?xt=urn:btih:" + cmd["ih"])
            params.save_path = cmd["dir"]
            params.flags &= ~lt.torrent_flags.auto_managed
            params.flags &= ~lt.torrent_flags.paused
            torrents.append(ses.add_torrent(params))
            emit("torrent-added", ih=cmd["ih"])
        elif cmd["cmd"] == "torrent_peers":
            for h in torrents:
                emit("torrent-peers", ih=str(h.info_hashes().v1), peers=["%s:%d" % tuple(p.ip) for p in h.get_peer_info()])
        elif cmd["cmd"] == "live_nodes":
            ses.dht_live_nodes(own_node_id(ses))
        elif cmd["cmd"] == "add_node":
            ses.add_dht_node((cmd["host"], cmd["port"]))


if __name__ == "__main__":
    main()
