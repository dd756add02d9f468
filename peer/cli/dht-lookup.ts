// btpeer dht-lookup <info-hash | magnet> [--dht-bootstrap host:port]... [--port N] [--announce PORT]
//                   [--dht-state FILE] [--json]
// One DHT node for one lookup: a way to exercise the DHT from the command line until the daemon owns it.
import { infoHashFromHex, infoHashToHex, IdError, type InfoHash } from "../../shared/ids.ts";
import { isMagnet, MagnetError, parseMagnet } from "../../shared/magnet.ts";
import { parseHostPort } from "../dht/bootstrap.ts";
import { DhtError } from "../dht/errors.ts";
import { DhtNode } from "../dht/node.ts";
import { intOption, runCommand } from "./command-args.ts";
import { readDhtState, writeDhtState } from "./dht-state-file.ts";
import { CliError } from "./torrent-runner.ts";

const HELP = `usage: btpeer dht-lookup <info-hash | magnet-uri> [options]

Joins the mainline DHT (BEP 5) for one lookup of a torrent's peers and prints them, one host:port a line.

  --dht-bootstrap <host:port>  a node to start from (repeatable; default: router.bittorrent.com:6881,
                               dht.transmissionbt.com:6881, router.utorrent.com:6881)
  --port <n>                   UDP port of the node (default 0: any free port)
  --announce <port>            also announce this TCP port for the torrent (0: the node's own UDP port)
  --dht-state <file>           read the routing table from this file if it exists, write it back at the
                               end: the next run starts from the nodes saved there, without bootstrap
  --json                       one JSON object: infoHash, peers, announcedTo, nodes, source

Exit codes: 0 the lookup ran (peers or not) · 2 bad usage · 6 no DHT node answered.`;

export function run(argv: string[]): Promise<number> {
  const options = {
    "dht-bootstrap": { type: "string", multiple: true },
    port: { type: "string" },
    announce: { type: "string" },
    "dht-state": { type: "string" },
    json: { type: "boolean" },
  } as const;
  return runCommand("dht-lookup", HELP, argv, options, async (values, positionals) => {
    if (positionals.length !== 1) throw new CliError("usage", "give one info hash (40 hex digits) or magnet link");
    const infoHash = parseTarget(positionals[0]!);
    const bootstrap = values["dht-bootstrap"];
    for (const b of bootstrap ?? []) {
      try {
        parseHostPort(b);
      } catch {
        throw new CliError("usage", `--dht-bootstrap wants host:port, got "${b}"`);
      }
    }
    const port = values.port === undefined ? 0 : intOption("--port", values.port, 0, 65535);
    const announce = values.announce === undefined ? undefined : intOption("--announce", values.announce, 0, 65535);
    const statePath = values["dht-state"];
    const savedTable = readDhtState(statePath);

    let node: DhtNode;
    try {
      // BTPEER_DHT_LOOPBACK_ONLY=1 (tests): the node throws rather than send a packet off this machine.
      node = await DhtNode.start({ port, bootstrap, savedTable, loopbackOnly: process.env.BTPEER_DHT_LOOPBACK_ONLY === "1" });
    } catch (error) {
      if (error instanceof DhtError) throw new CliError("usage", error.message);
      throw error;
    }
    try {
      const joined = await node.bootstrap();
      if (joined.nodes === 0) {
        console.error("btpeer dht-lookup: no DHT node answered");
        return 6;
      }
      const result =
        announce === undefined
          ? { peers: await node.getPeers(infoHash), announcedTo: 0 }
          : await node.announce(infoHash, announce === 0 ? "implied" : announce);
      if (statePath) writeDhtState(statePath, node.saveTable());
      if (values.json) {
        const { nodes } = node.stats();
        console.log(
          JSON.stringify({
            infoHash: infoHashToHex(infoHash),
            peers: result.peers.map(hostPort),
            announcedTo: result.announcedTo,
            nodes: nodes[4] + nodes[6],
            source: joined.source,
          }),
        );
      } else {
        for (const p of result.peers) console.log(hostPort(p));
      }
      return 0;
    } finally {
      node.close();
    }
  });
}

function parseTarget(text: string): InfoHash {
  try {
    return isMagnet(text) ? parseMagnet(text).infoHash : infoHashFromHex(text);
  } catch (error) {
    if (error instanceof MagnetError || error instanceof IdError) throw new CliError("usage", error.message);
    throw error;
  }
}

function hostPort(p: { ip: string; port: number }): string {
  return p.ip.includes(":") ? `[${p.ip}]:${p.port}` : `${p.ip}:${p.port}`;
}
