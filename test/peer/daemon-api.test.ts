// The daemon's HTTP API against the real daemon (dist/btpeer daemon): every endpoint, its validation
// (each 400 names the field), the bearer token (a bare 401 without it), the Host check of a loopback
// API, and error bodies that are {"error": {"code", "message"}} and never a stack.
import type { DaemonStats, GlobalLimits, TorrentDetail, TorrentSummary } from "../../peer/daemon/control.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import path from "node:path";
import { makeRandomFile, removeDir } from "../support/processes.ts";
import { makeTorrent } from "./btpeer-harness.ts";
import { type ApiDaemon, startApiDaemon } from "./daemon-api-harness.ts";
import { makePair, seedFixture } from "../support/seed-fixture.ts";

const TORRENT_TYPE = { "content-type": "application/x-bittorrent" };

let daemon: ApiDaemon;
let work: string;
/** A two-file torrent (no tracker, no peers: it stays where the test puts it). */
let torrentBytes: Uint8Array<ArrayBuffer>;
let infoHash: string;

interface ApiError {
  error: { code: string; message: string };
}

beforeAll(async () => {
  const pair = await seedFixture("btpeer-api-", "pair", 16384, makePair);
  work = pair.dir;
  torrentBytes = new Uint8Array(fs.readFileSync(pair.torrent));
  daemon = await startApiDaemon();
  const added = await daemon.json<{ infoHash: string }>("POST", "/api/v1/torrents?paused=true&uploadLimit=65536&maxPeers=7", 201, {
    body: torrentBytes,
    headers: TORRENT_TYPE,
  });
  infoHash = added.infoHash;
}, 90_000);

afterAll(async () => {
  await daemon?.stop();
  removeDir(work);
});

async function expectError(response: Response, status: number, code: string, mention?: string): Promise<string> {
  const text = await response.text();
  expect({ status: response.status, text }).toMatchObject({ status });
  const body = JSON.parse(text) as ApiError;
  expect(body.error.code).toBe(code);
  if (mention) expect(body.error.message).toContain(mention);
  expect(text).not.toMatch(/\bat .*\.ts:\d+|node_modules|\n\s+at /); // no stack
  return body.error.message;
}

describe("authentication", () => {
  const routes: [string, string][] = [
    ["GET", "/api/v1/torrents"],
    ["POST", "/api/v1/torrents"],
    ["GET", "/api/v1/stats"],
    ["PATCH", "/api/v1/limits"],
    ["GET", "/api/v1/events"],
    ["GET", "/metrics"],
    ["GET", "/no/such/path"],
  ];

  test("no token, a wrong token, another scheme: 401 with an empty body, on every path", async () => {
    for (const [method, route] of routes) {
      for (const authorization of [undefined, `Bearer ${"x".repeat(43)}`, `Bearer ${daemon.token}x`, `Basic ${btoa(`u:${daemon.token}`)}`]) {
        const response = await fetch(`${daemon.api}${route}`, { method, headers: authorization ? { authorization } : {} });
        expect({ route, authorization, status: response.status, body: await response.text() }).toEqual({ route, authorization, status: 401, body: "" });
        expect(response.headers.get("www-authenticate")).toBe("Bearer");
      }
    }
  });

  test("the token file is private to the daemon's user and the scheme is case-insensitive", async () => {
    expect(fs.statSync(path.join(daemon.stateDir, "api-token")).mode & 0o077).toBe(0);
    const response = await fetch(`${daemon.api}/api/v1/stats`, { headers: { authorization: `bearer ${daemon.token}` } });
    expect(response.status).toBe(200);
  });

  test("a loopback API answers only to loopback names in Host (DNS rebinding), even with the token", async () => {
    for (const host of ["localhost", `127.0.0.1:${new URL(daemon.api).port}`, "[::1]:1"]) {
      expect((await daemon.call("GET", "/api/v1/stats", { headers: { host } })).status).toBe(200);
    }
    for (const host of ["attacker.example", "attacker.example:9080", "127.0.0.1.attacker.example"]) {
      await expectError(await daemon.call("GET", "/api/v1/stats", { headers: { host } }), 403, "bad-host", "loopback");
    }
  });
});

describe("adding torrents", () => {
  test("the .torrent as the body, paused, with options from the query → 201 and its info hash", async () => {
    expect(infoHash).toMatch(/^[0-9a-f]{40}$/);
    const detail = await daemon.json<TorrentDetail>("GET", `/api/v1/torrents/${infoHash}`, 200);
    expect(detail).toMatchObject({ state: "paused", name: "pair", limits: { uploadLimit: 65536, maxPeers: 7 } });
    expect(detail.files.map((f) => [f.index, f.path, f.priority])).toEqual([
      [0, "a.bin", "normal"],
      [1, "b.bin", "normal"],
    ]);
    expect(detail.savePath).toStartWith(daemon.downloadDir);
  });

  test("the same torrent again → 409, whichever body carries it", async () => {
    await expectError(await daemon.call("POST", "/api/v1/torrents", { body: torrentBytes, headers: TORRENT_TYPE }), 409, "duplicate");
    const form = new FormData();
    form.append("torrent", new Blob([torrentBytes]), "pair.torrent");
    await expectError(await daemon.call("POST", "/api/v1/torrents", { body: form }), 409, "duplicate");
    const json = JSON.stringify({ torrent: Buffer.from(torrentBytes).toString("base64") });
    await expectError(await daemon.call("POST", "/api/v1/torrents", { body: json, headers: { "content-type": "application/json" } }), 409, "duplicate");
  });

  test("by URL: the daemon fetches the .torrent (here the same one again: 409); a URL that fails → 400 saying why", async () => {
    const files = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) => (new URL(request.url).pathname === "/pair.torrent" ? new Response(torrentBytes) : new Response("no", { status: 404 })),
    });
    try {
      const json = (body: unknown) => ({ body: JSON.stringify(body), headers: { "content-type": "application/json" } });
      await expectError(await daemon.call("POST", "/api/v1/torrents", json({ url: `http://127.0.0.1:${files.port}/pair.torrent` })), 409, "duplicate");
      const form = new FormData();
      form.append("url", `http://127.0.0.1:${files.port}/gone.torrent`);
      await expectError(await daemon.call("POST", "/api/v1/torrents", { body: form }), 400, "bad-torrent", "HTTP 404");
      await expectError(await daemon.call("POST", "/api/v1/torrents", json({ url: "file:///etc/passwd" })), 400, "bad-request", "url must be an http(s) URL");
    } finally {
      await files.stop(true);
    }
  });

  test("multipart: a `torrent` file with option fields adds it", async () => {
    const single = path.join(work, "single.bin");
    makeRandomFile(single, 40_000, 3);
    const bytes = fs.readFileSync(await makeTorrent(single, path.join(work, "single.torrent")));
    const form = new FormData();
    form.append("torrent", new Blob([bytes]), "single.torrent");
    form.append("paused", "true");
    form.append("savePath", path.join(work, "elsewhere"));
    const response = await daemon.call("POST", "/api/v1/torrents", { body: form });
    expect(response.status).toBe(201);
    const { infoHash: added } = (await response.json()) as { infoHash: string };
    expect(response.headers.get("location")).toBe(`/api/v1/torrents/${added}`);
    const detail = await daemon.json<TorrentDetail>("GET", `/api/v1/torrents/${added}`, 200);
    expect(detail).toMatchObject({ name: "single.bin", state: "paused", savePath: path.join(work, "elsewhere"), size: 40_000 });
    expect((await daemon.call("DELETE", `/api/v1/torrents/${added}`)).status).toBe(204);
  });

  test("what is not a torrent → 400 bad-torrent; no body, no source, two sources → 400", async () => {
    await expectError(await daemon.call("POST", "/api/v1/torrents", { body: "d4:infoi1ee", headers: TORRENT_TYPE }), 400, "bad-torrent");
    await expectError(await daemon.call("POST", "/api/v1/torrents", { body: new Uint8Array(0), headers: TORRENT_TYPE }), 400, "bad-request", "empty");
    const form = new FormData();
    form.append("paused", "true");
    await expectError(await daemon.call("POST", "/api/v1/torrents", { body: form }), 400, "bad-request", "torrent");
    const both = JSON.stringify({ torrent: Buffer.from(torrentBytes).toString("base64"), magnet: `magnet:?xt=urn:btih:${"1".repeat(40)}` });
    await expectError(
      await daemon.call("POST", "/api/v1/torrents", { body: both, headers: { "content-type": "application/json" } }),
      400,
      "bad-request",
      "more than one",
    );
  });

  test("options are checked by name: unknown, wrong type, negative → 400 naming the option, nothing added", async () => {
    const cases: [string, string][] = [
      ["paused=maybe", "paused"],
      ["uploadLimit=-5", "uploadLimit"],
      ["maxPeers=0", "maxPeers"],
      ["ratioLimit=-1", "ratioLimit"],
      ["seedTimeLimit=1.5", "seedTimeLimit"],
      ["skip=one", "skip"],
      ["filePriorities=%7B%220%22%3A%22urgent%22%7D", "filePriorities.0"],
      ["savepath=/tmp", "savepath"],
    ];
    for (const [query, field] of cases) {
      const message = await expectError(
        await daemon.call("POST", `/api/v1/torrents?${query}`, { body: torrentBytes, headers: TORRENT_TYPE }),
        400,
        "bad-request",
      );
      expect(message).toStartWith(field);
    }
    expect((await daemon.json<unknown[]>("GET", "/api/v1/torrents", 200)).length).toBe(1);
  });

  test("a body over 16 MiB → 413, declared or chunked; an unknown media type → 415", async () => {
    const big = new Uint8Array(16 * 1024 * 1024 + 1);
    await expectError(await daemon.call("POST", "/api/v1/torrents", { body: big, headers: TORRENT_TYPE }), 413, "body-too-large");
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 17; i++) controller.enqueue(new Uint8Array(1024 * 1024));
        controller.close();
      },
    });
    await expectError(await daemon.call("POST", "/api/v1/torrents", { body: chunks, headers: TORRENT_TYPE }), 413, "body-too-large");
    await expectError(await daemon.call("POST", "/api/v1/torrents", { body: "x", headers: { "content-type": "text/plain" } }), 415, "unsupported-media-type");
  });
});

describe("one torrent", () => {
  test("GET by info hash in either case; a bad hash → 400; an unknown one → 404", async () => {
    const detail = await daemon.json<TorrentDetail>("GET", `/api/v1/torrents/${infoHash.toUpperCase()}`, 200);
    expect(detail).toMatchObject({ infoHash, pieceCount: Math.ceil(500_000 / 16384), pieceLength: 16384, size: 500_000 });
    expect(typeof detail.pieces).toBe("string");
    for (const bad of ["abc", `${infoHash}0`, "g".repeat(40)]) {
      await expectError(await daemon.call("GET", `/api/v1/torrents/${bad}`), 400, "bad-hash", "40 hex digits");
    }
    const unknown = "0".repeat(40);
    await expectError(await daemon.call("GET", `/api/v1/torrents/${unknown}`), 404, "not-found");
    for (const action of ["pause", "resume", "recheck", "reannounce"]) {
      await expectError(await daemon.call("POST", `/api/v1/torrents/${unknown}/${action}`), 404, "not-found");
    }
    await expectError(await daemon.call("PATCH", `/api/v1/torrents/${unknown}`, { body: "{}" }), 404, "not-found");
    await expectError(await daemon.call("DELETE", `/api/v1/torrents/${unknown}`), 404, "not-found");
  });

  test("the list has its summary", async () => {
    const list = await daemon.json<TorrentSummary[]>("GET", "/api/v1/torrents", 200);
    expect(list.map((t) => t.infoHash)).toEqual([infoHash]);
    expect(list[0]).toMatchObject({ name: "pair", state: "paused", size: 500_000, wantedSize: 500_000, progress: 0 });
  });

  test("resume, pause, recheck, reannounce answer with the torrent as it is after", async () => {
    const resumed = await daemon.json<TorrentDetail>("POST", `/api/v1/torrents/${infoHash}/resume`, 200);
    expect(resumed.state).not.toBe("paused");
    const paused = await daemon.json<TorrentDetail>("POST", `/api/v1/torrents/${infoHash}/pause`, 200);
    expect(paused.state).toBe("paused");
    const rechecked = await daemon.json<TorrentDetail>("POST", `/api/v1/torrents/${infoHash}/recheck`, 200);
    expect(rechecked.infoHash).toBe(infoHash);
    const announced = await daemon.json<TorrentDetail>("POST", `/api/v1/torrents/${infoHash}/reannounce`, 200);
    expect(announced.infoHash).toBe(infoHash);
  });

  test("a PATCH that is wrong → 400 naming the field, and changes nothing", async () => {
    const before = await daemon.json<TorrentDetail>("GET", `/api/v1/torrents/${infoHash}`, 200);
    const cases: [unknown, string][] = [
      [{ speed: 1 }, "speed"],
      [{ limits: { uploadLimit: -1 } }, "limits.uploadLimit"],
      [{ limits: { uploadLimit: "fast" } }, "limits.uploadLimit"],
      [{ limits: { maxPeers: 0 } }, "limits.maxPeers"],
      [{ limits: { burst: 1 } }, "limits.burst"],
      [{ filePriorities: { 2: "skip" } }, "filePriorities.2"],
      [{ filePriorities: { "-1": "skip" } }, "filePriorities.-1"],
      [{ filePriorities: { 0: "urgent" } }, "filePriorities.0"],
      [{ filePriorities: ["skip"] }, "filePriorities"],
      [{ sequential: "yes" }, "sequential"],
      [{ goals: { ratioLimit: -0.5 } }, "goals.ratioLimit"],
      [{ sequential: false, goals: { seedTimeLimit: "1h" } }, "goals.seedTimeLimit"],
    ];
    for (const [body, field] of cases) {
      const message = await expectError(await daemon.call("PATCH", `/api/v1/torrents/${infoHash}`, { body: JSON.stringify(body) }), 400, "bad-request");
      expect(message).toStartWith(field);
    }
    const settings = (t: TorrentDetail) => ({ limits: t.limits, sequential: t.sequential, goals: t.goals, priorities: t.files.map((f) => f.priority) });
    expect(settings(await daemon.json<TorrentDetail>("GET", `/api/v1/torrents/${infoHash}`, 200))).toEqual(settings(before));
  });

  test("malformed JSON → 400 bad-json saying so; a body that is not an object too", async () => {
    for (const body of ['{"limits":', "limits=1", "[1,2]", "null", "\u0000"]) {
      await expectError(await daemon.call("PATCH", `/api/v1/torrents/${infoHash}`, { body }), 400, "bad-json", "JSON");
    }
    await expectError(await daemon.call("PATCH", "/api/v1/limits", { body: "{" }), 400, "bad-json", "JSON");
  });

  test("a method a path does not take → 405 with Allow; an unknown path → 404 in the same shape", async () => {
    const response = await daemon.call("PUT", `/api/v1/torrents/${infoHash}`);
    expect(response.headers.get("allow")).toBe("GET, PATCH, DELETE");
    await expectError(response, 405, "method-not-allowed");
    await expectError(await daemon.call("GET", `/api/v1/torrents/${infoHash}/pause`), 405, "method-not-allowed");
    await expectError(await daemon.call("GET", "/api/v3/torrents"), 404, "no-such-endpoint");
    // Under the qBittorrent API mounted at /api/v2 too: a 404, not a bug's 500.
    await expectError(await daemon.call("GET", "/api/v2/no/such/endpoint"), 404, "no-such-endpoint");
  });
});

describe("the daemon", () => {
  test("stats: torrents by state, rates, totals, the peer port, the limits", async () => {
    const stats = await daemon.json<DaemonStats>("GET", "/api/v1/stats", 200);
    expect(stats).toMatchObject({ torrents: 1, port: daemon.peerPort });
    expect(Object.values(stats.byState).reduce((a, b) => a + b, 0)).toBe(1);
    for (const field of ["downloadRate", "uploadRate", "downloaded", "uploaded", "peers", "startedAt"] as const) expect(typeof stats[field]).toBe("number");
  });

  test("limits: read; a change is checked by name", async () => {
    const limits = await daemon.json<GlobalLimits>("GET", "/api/v1/limits", 200);
    expect(Object.keys(limits).sort()).toEqual(["downloadLimit", "maxPeers", "uploadLimit"]);
    expect((await daemon.json<DaemonStats>("GET", "/api/v1/stats", 200)).limits).toEqual(limits);
    await expectError(await daemon.call("PATCH", "/api/v1/limits", { body: JSON.stringify({ uploadLimit: -1 }) }), 400, "bad-request", "uploadLimit");
    await expectError(await daemon.call("PATCH", "/api/v1/limits", { body: JSON.stringify({ maxpeers: 3 }) }), 400, "bad-request", "maxpeers");
    await expectError(await daemon.call("PATCH", "/api/v1/limits", { body: JSON.stringify({ maxPeers: "many" }) }), 400, "bad-request", "maxPeers");
    expect(await daemon.json("GET", "/api/v1/limits", 200)).toEqual(limits);
  });

  test("a quiet event stream outlives Bun's 10 s idle timeout: its keep-alive comment comes at 15 s", async () => {
    const response = await daemon.call("GET", "/api/v1/events");
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    try {
      while (!text.includes(": keep-alive\n\n")) {
        const { done, value } = await reader.read(); // a connection cut by the server throws here
        if (done) throw new Error(`the stream ended, having sent: ${JSON.stringify(text)}`);
        text += decoder.decode(value, { stream: true });
      }
    } finally {
      await reader.cancel();
    }
    expect(text).toStartWith(": subscribed\n\n");
  }, 60_000);

  test("events: a bad hash filter → 400, an unknown torrent → 404", async () => {
    await expectError(await daemon.call("GET", "/api/v1/events?hash=xyz"), 400, "bad-hash");
    await expectError(await daemon.call("GET", `/api/v1/events?hash=${"0".repeat(40)}`), 404, "not-found");
  });
});

describe("removing", () => {
  test("deleteData must be true or false; DELETE → 204, then the torrent is gone; deleteData=true removes its files", async () => {
    await expectError(await daemon.call("DELETE", `/api/v1/torrents/${infoHash}?deleteData=yes`), 400, "bad-request", "deleteData");
    expect((await daemon.call("DELETE", `/api/v1/torrents/${infoHash}?deleteData=false`)).status).toBe(204);
    await expectError(await daemon.call("GET", `/api/v1/torrents/${infoHash}`), 404, "not-found");
    expect(await daemon.json("GET", "/api/v1/torrents", 200)).toEqual([]);
  });
});
