// A child process for the state store's crash and lock tests: plays the Client's part with a real
// StateStore in `dir` and a torrent whose data lives in `dir/data`.
//   bun state-child.ts hold <dir>      opens the store, prints "open", waits to be killed
//   bun state-child.ts download <dir>  resumes like the Client (plan, re-check, track) and writes and marks
//                                      the missing pieces in random order; prints "flushed <json pieces>"
//                                      after each commit and "complete" at the end
import * as fs from "node:fs";
import { Bitfield } from "../../shared/bitfield.ts";
import { planResume, stampFile } from "../../peer/daemon/resume-plan.ts";
import { ResumeWriter } from "../../peer/daemon/resume-writer.ts";
import { StateStore } from "../../peer/daemon/state-store.ts";
import { CRASH_TORRENT, crashLayout, pieceOnDiskIsRight, writePiece } from "./state-fixture.ts";

const [mode, dir] = process.argv.slice(2) as [string, string];
const store = StateStore.open(dir);

if (mode === "hold") {
  console.log("open");
  setInterval(() => {}, 60_000); // stays until killed
  await new Promise(() => {});
}

const layout = crashLayout(dir);
if (!store.getTorrent(CRASH_TORRENT.infoHash)) store.addTorrent(CRASH_TORRENT);
console.log("added");
for (const f of layout.files) {
  // Like TorrentStorage.open: every file there at its full length, sparse where nothing was written.
  if (!fs.existsSync(f.path)) {
    fs.mkdirSync(`${dir}/data`, { recursive: true });
    fs.writeFileSync(f.path, "");
    fs.truncateSync(f.path, f.length);
  }
}

const plan = planResume(
  layout,
  store.getResume(CRASH_TORRENT.infoHash),
  layout.files.map((f) => stampFile(f.path)),
);
const have = new Bitfield(layout.pieceCount, plan.verified.bytes);
for (const p of plan.recheck) if (pieceOnDiskIsRight(layout, p)) have.set(p);
console.log(`resumed ${JSON.stringify({ verified: plan.verified.count(), recheck: plan.recheck.length, have: have.count() })}`);

const writer = new ResumeWriter(store, {
  intervalMs: 5,
  maxPieces: 16,
  onCommit: (pieces) => console.log(`flushed ${JSON.stringify(pieces.get(CRASH_TORRENT.hex) ?? [])}`),
});
writer.track(CRASH_TORRENT.infoHash, layout, { bitfield: have, uploaded: 0, downloaded: 0 });

const missing = [...Array(layout.pieceCount).keys()].filter((p) => !have.has(p));
for (let i = missing.length - 1; i > 0; i--) {
  const j = Math.floor(Math.random() * (i + 1));
  [missing[i], missing[j]] = [missing[j]!, missing[i]!];
}
const fds = layout.files.map((f) => fs.openSync(f.path, "r+"));
for (const [n, piece] of missing.entries()) {
  writer.writeStarted(CRASH_TORRENT.infoHash, piece);
  writePiece(layout, fds, piece);
  writer.markVerified(CRASH_TORRENT.infoHash, piece);
  writer.setTotals(CRASH_TORRENT.infoHash, 0, (n + 1) * layout.pieceLength);
  if (n % 4 === 3) await Bun.sleep(1); // lets the writer's timer fire between marks, as in a real session
}
writer.close();
store.close();
console.log("complete");
