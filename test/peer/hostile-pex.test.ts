// Peer exchange (ut_pex, BEP 11) with scripted peers built on the shared codec, against real btpeer
// seeders. A message naming the seeder itself, addresses nobody can be at and two real peers (IPv4 and
// IPv6): only the real peers are dialled, and later told to others with their flags. An address that
// turns out to reach the seeder itself (another loopback alias) is dialled once and never again. A flood of messages, each full of
// addresses, makes it dial no more than one message's bounded share. A private torrent (BEP 27) names no
// ut_pex, ignores what it is sent and sends nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import type { Socket } from "bun";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { decodeExtensionHandshake } from "../../shared/wire/extension.ts";
import type { WireMessage } from "../../shared/wire/types.ts";
import { decodePexMessage, encodePexMessage, PexFlag, UT_PEX, type PexMessage, type PexPeer } from "../../shared/wire/ut-pex.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { type Btpeer, isEvent, makeTorrent, startBtpeer } from "./btpeer-harness.ts";
import { connectScripted, listenScripted, type ScriptedStats, type Wire } from "./hostile-peers.ts";

let dir = "";
let meta: Metainfo;
let privateMeta: Metainfo;
let seeder: Btpeer;
let privateSeeder: Btpeer;
const listeners: { stop(): void }[] = [];
const stats = (): ScriptedStats => ({ requests: 0, admitted: 0, closed: 0 });
/** An empty bitfield: the scripted peers have nothing, so a seeder dials them (it skips seeds). */
const nothing = () => new Uint8Array(Math.ceil(meta.pieceCount / 8));

beforeAll(async () => {
  dir = makeTempDir("btpeer-hostile-pex-");
  makeRandomFile(path.join(dir, "src", "data.bin"), 1024 * 1024 + 5, 91);
  const torrent = await makeTorrent(path.join(dir, "src", "data.bin"), path.join(dir, "data.torrent"), { pieceLength: 32 * 1024 });
  const privateTorrent = await makeTorrent(path.join(dir, "src", "data.bin"), path.join(dir, "private.torrent"), { pieceLength: 32 * 1024, private: true });
  meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
  privateMeta = parseMetainfo(new Uint8Array(fs.readFileSync(privateTorrent)));
  seeder = await startBtpeer(["seed", torrent, "--dir", path.join(dir, "src")], { name: "seeder", env: { BTPEER_DEBUG: "1" } });
  privateSeeder = await startBtpeer(["seed", privateTorrent, "--dir", path.join(dir, "src")], { name: "private seeder", env: { BTPEER_DEBUG: "1" } });
});

afterAll(async () => {
  for (const l of listeners) l.stop();
  await stopAllServices();
  removeDir(dir);
}, 30_000);

/**
 * A peer with ut_pex that dials `target` from `from`; `pex(wire, id)` runs once the seeder's extension
 * handshake told its ut_pex id. Collects everything the seeder sends; ends when `until` says so.
 */
function pexPeer(
  m: Metainfo,
  target: Btpeer,
  from: string,
  tag: string,
  pex: (wire: Wire, id: number) => void,
  until: (received: WireMessage[]) => boolean,
): { received: WireMessage[]; theirs: Promise<Map<string, number>>; done: Promise<void> } {
  const received: WireMessage[] = [];
  let told!: (m: Map<string, number>) => void;
  const theirs = new Promise<Map<string, number>>((resolve) => (told = resolve));
  const done = connectScripted(
    m,
    from,
    target.port,
    tag,
    stats(),
    {
      message: (msg, wire) => {
        received.push(msg);
        if (msg.type === "extended" && msg.id === 0) {
          const h = decodeExtensionHandshake(msg.payload);
          told(new Map(h.m));
          const id = h.m.get(UT_PEX);
          pex(wire, id ?? 1); // a private seeder names none: the message goes to the id it would have had
        }
        if (until(received)) wire.close();
      },
    },
    { bitfield: new Uint8Array(Math.ceil(m.pieceCount / 8)), extensions: { [UT_PEX]: 3 }, listenPort: 6999 },
  );
  return { received, theirs, done };
}

const pexSent = (received: WireMessage[]): PexMessage[] =>
  received.filter((m): m is Extract<WireMessage, { type: "extended" }> => m.type === "extended" && m.id === 3).map((m) => decodePexMessage(m.payload));

/** Waits (up to a generous 30 s, for stderr to be read to its end) until the process's stderr says `pattern`. */
async function stderrSays(peer: Btpeer, pattern: RegExp): Promise<boolean> {
  for (let i = 0; i < 300 && !pattern.test(peer.service.output()); i++) await Bun.sleep(100);
  return pattern.test(peer.service.output());
}

describe("a btpeer seeder told of peers by a scripted ut_pex peer", () => {
  test("addresses of its own and ones nobody can be at are never dialled; the real peers are, and are told to others as reachable", async () => {
    const real = listenScripted(meta, "127.0.0.6", "real", {}, { bitfield: nothing() });
    const real6 = listenScripted(meta, "::1", "real6", {}, { bitfield: nothing() });
    listeners.push(real, real6);
    const junk: PexPeer[] = [
      { ip: "127.0.0.1", port: seeder.port, flags: 0 }, // the seeder itself, on an address of its interfaces
      { ip: "::1", port: seeder.port, flags: 0 },
      { ip: "0.0.0.0", port: 6881, flags: 0 },
      { ip: "224.0.0.1", port: 6881, flags: 0 },
      { ip: "255.255.255.255", port: 6881, flags: 0 },
    ];
    const reals: [string, number][] = [
      ["127.0.0.6", real.port],
      ["::1", real6.port],
    ];
    const told = pexPeer(
      meta,
      seeder,
      "127.0.0.5",
      "pex-self",
      (wire, id) => {
        const added = [...junk, ...reals.map(([ip, port]) => ({ ip, port, flags: 0 }))];
        wire.send({ type: "extended", id, payload: encodePexMessage({ added, dropped: [] }) });
      },
      (received) => reals.every(([, port]) => pexSent(received).some((m) => m.added.some((p) => p.port === port))),
    );
    expect((await told.theirs).get(UT_PEX)).toBe(1);
    await told.done; // until the seeder told us of both real peers: it dialled them
    expect(real.stats.admitted).toBeGreaterThanOrEqual(1);
    expect(real6.stats.admitted).toBeGreaterThanOrEqual(1);
    const listed = pexSent(told.received).flatMap((m) => m.added);
    for (const [ip, port] of reals) {
      const entry = listed.find((p) => p.port === port)!;
      expect(entry.ip).toBe(ip); // the IPv6 one came in added6
      expect(entry.flags & PexFlag.reachable).toBe(PexFlag.reachable); // we dialled it: it accepts connections
      expect(entry.flags & PexFlag.seed).toBe(0);
    }
    const learned = seeder.events().filter(isEvent("peers-learned"));
    expect(learned.map((e) => e.added)).toEqual([2]);
    expect(seeder.service.output()).not.toContain("connected to ourselves");
  }, 60_000);

  test("an address that turns out to reach the seeder itself is dialled once, never again", async () => {
    const alias = "127.0.0.7"; // loopback, not an interface address: only the handshake shows it is us
    const told = pexPeer(
      meta,
      seeder,
      "127.0.0.8",
      "pex-alias",
      (wire, id) => wire.send({ type: "extended", id, payload: encodePexMessage({ added: [{ ip: alias, port: seeder.port, flags: 0 }], dropped: [] }) }),
      () => false,
    );
    expect(await stderrSays(seeder, new RegExp(`peer ${alias}:${seeder.port} closed: connected to ourselves`))).toBe(true);
    // Without the mark, the dial would come back after 2 s, 4 s, 8 s of back-off.
    await Bun.sleep(9_000);
    const dials = seeder.service.errLines.filter((l) => l.startsWith(`peer ${alias}:${seeder.port} closed`));
    expect(dials).toEqual([`peer ${alias}:${seeder.port} closed: connected to ourselves`]);
    told.done.catch(() => {});
  }, 60_000);

  test("a flood of messages full of addresses makes it dial one message's bounded share at most", async () => {
    // One listener on every loopback address: it counts the dials, whichever 127.x.y.z they went to.
    const dialled = new Set<string>();
    const catcher = Bun.listen<undefined>({
      hostname: "0.0.0.0",
      port: 0,
      socket: {
        open(socket: Socket<undefined>) {
          dialled.add(socket.localAddress);
        },
        data() {},
      },
    });
    listeners.push(catcher);
    const message = (n: number) =>
      encodePexMessage({ added: Array.from({ length: 50 }, (_, i) => ({ ip: `127.1.${n}.${i + 1}`, port: catcher.port, flags: 0 })), dropped: [] });
    const told = pexPeer(
      meta,
      seeder,
      "127.0.0.9",
      "pex-flood",
      (wire, id) => {
        for (let n = 0; n < 20; n++) wire.send({ type: "extended", id, payload: message(n) });
      },
      () => false,
    );
    await seeder.waitFor((e) => e.event === "peers-learned" && String(e.peer).startsWith("127.0.0.9:"), 30_000);
    // Long enough for every address it took to be dialled (8 at a time, each refused or timed out within 5 s).
    await Bun.sleep(8_000);
    const floods = seeder.events().filter((e) => e.event === "peers-learned" && String(e.peer).startsWith("127.0.0.9:"));
    expect(floods.length).toBe(1); // the other 19 messages came too soon after the first: ignored unread
    expect(Number(floods[0]!.added)).toBe(25);
    expect(dialled.size).toBeLessThanOrEqual(25);
    expect(dialled.size).toBeGreaterThan(0);
    expect(seeder.service.hasExited).toBe(false);
    told.done.catch(() => {});
  }, 60_000);
});

describe("a private torrent (BEP 27)", () => {
  test("names no ut_pex, dials nobody it is told of, and tells nothing", async () => {
    const real = listenScripted(privateMeta, "127.0.0.10", "private-real", {}, { bitfield: new Uint8Array(Math.ceil(privateMeta.pieceCount / 8)) });
    listeners.push(real);
    // A peer the seeder is connected to (so there would be something to tell), dialling it with its listen port.
    const companion = connectScripted(
      privateMeta,
      "127.0.0.12",
      privateSeeder.port,
      "companion",
      stats(),
      {},
      {
        bitfield: new Uint8Array(Math.ceil(privateMeta.pieceCount / 8)),
        extensions: { [UT_PEX]: 3 },
        listenPort: 7001,
      },
    );
    const told = pexPeer(
      privateMeta,
      privateSeeder,
      "127.0.0.13",
      "private-pex",
      (wire, id) => wire.send({ type: "extended", id, payload: encodePexMessage({ added: [{ ip: "127.0.0.10", port: real.port, flags: 0 }], dropped: [] }) }),
      () => false,
    );
    expect((await told.theirs).has(UT_PEX)).toBe(false);
    await Bun.sleep(4_000); // a public torrent would have dialled it and sent its first message by now
    expect(real.stats.admitted).toBe(0);
    expect(pexSent(told.received)).toEqual([]);
    expect(privateSeeder.events().filter(isEvent("peers-learned"))).toEqual([]);
    companion.catch(() => {});
  }, 60_000);
});
