// TrackerAnnouncer's rounds that overlap (peer/tracker/tracker-announcer.ts): a reannounce asked while a
// round is under way waits for that round's announce on the lane, then sends its own. Until both are done
// the announcer is not settled (a settled announcer lets a seeding torrent go dormant, which calls off what
// is under way). In process, against our recording tracker on loopback, holding its replies.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { toHex } from "../../shared/bytes.ts";
import { asInfoHash, type InfoHash } from "../../shared/ids.ts";
import { TrackerAnnouncer } from "../../peer/tracker/tracker-announcer.ts";
import { type RecordingTracker, startRecordingTracker } from "../support/recording-tracker.ts";
import { until } from "../support/until.ts";

let tracker: RecordingTracker;
beforeAll(() => {
  tracker = startRecordingTracker();
});
afterAll(() => tracker?.stop());

const random20 = () => crypto.getRandomValues(new Uint8Array(20));
const wait = { tries: 600, everyMs: 50 };

/** A seeding torrent's announcer for one tracker, that knows peers (a failed round is not its end); fatal errors go to `fatal`. */
function seederAnnouncer(infoHash: InfoHash, url: string, fatal: string[]): TrackerAnnouncer {
  return new TrackerAnnouncer({ infoHash, announceList: [[url]] }, random20(), {
    stats: () => ({ uploaded: 0, downloaded: 0, left: 0 }),
    peersFound: () => {},
    emit: () => {},
    knowsPeers: () => true,
    fatal: (_code, message) => void fatal.push(message),
  });
}

test("a reannounce during a round under way keeps the announcer unsettled until its own announce is answered", async () => {
  const infoHash = asInfoHash(random20());
  const events = () => tracker.to("t", toHex(infoHash)).map((a) => a.event);
  const fatal: string[] = [];
  const announcer = seederAnnouncer(infoHash, tracker.url("t"), fatal);
  try {
    announcer.start(6881, true);
    await until(() => announcer.status()[0]?.status === "working" && announcer.settled, "`started` answered", wait);

    tracker.hold("t");
    announcer.completed(); // round 1: `completed`, its reply held
    await until(() => events().length === 2, "`completed` at the tracker", wait);
    expect(announcer.settled).toBe(false);
    announcer.reannounce(); // round 2: waits for round 1's announce on the lane
    tracker.release("t"); // round 1 answered...
    tracker.hold("t"); // ...round 2's reply held
    await until(() => events().length === 3, "the reannounce at the tracker", wait);
    expect(events()).toEqual(["started", "completed", ""]);
    expect(announcer.settled).toBe(false); // round 2 is under way
    tracker.release("t");
    await until(() => announcer.settled, "round 2 answered", wait);
  } finally {
    tracker.release("t");
    await announcer.stop();
  }
  expect(events()).toEqual(["started", "completed", "", "stopped"]);
  expect(fatal).toEqual([]);
}, 60_000);

test("overlapping rounds leave one schedule: the regular announce after them goes out once", async () => {
  // Each round, as it ends, plans the next. Two rounds that overlapped (a `completed`, a reannounce asked
  // during it) must not leave two timers: both would come due together, and the second would send the
  // regular announce again right after the first.
  const short = startRecordingTracker(5); // btpeer waits at least 5 s between announces
  const infoHash = asInfoHash(random20());
  const events = () => short.to("t", toHex(infoHash)).map((a) => a.event);
  const fatal: string[] = [];
  const announcer = seederAnnouncer(infoHash, short.url("t"), fatal);
  try {
    announcer.start(6881, true);
    await until(() => announcer.status()[0]?.status === "working" && announcer.settled, "`started` answered", wait);
    short.hold("t");
    announcer.completed();
    await until(() => events().length === 2, "`completed` at the tracker", wait);
    announcer.reannounce(); // a second round, under way beside the first
    short.release("t");
    await until(() => events().length === 3 && announcer.settled, "both rounds answered", wait);

    // The regular announce, about 5 s later: its reply is held long enough for any second timer, due at
    // the same moment, to fire too.
    short.hold("t");
    await until(() => events().length === 4, "the regular announce", { tries: 400, everyMs: 50 });
    await Bun.sleep(1500);
    short.release("t");
    await until(() => announcer.settled, "the regular announce answered", wait);
    await Bun.sleep(500); // a duplicate waiting on the lane would go out now
    expect(events()).toEqual(["started", "completed", "", ""]);
  } finally {
    short.release("t");
    await announcer.stop();
    short.stop();
  }
  expect(fatal).toEqual([]);
}, 60_000);

test("a stop while `started` awaits its reply sends `stopped` only after that reply, so the tracker handles them in order", async () => {
  // Sent at once on a second connection, the `stopped` could be handled before the `started` still on its
  // way (the lifecycle test's pause right after start once saw the tracker keep the peer that way).
  const infoHash = asInfoHash(random20());
  const events = () => tracker.to("t", toHex(infoHash)).map((a) => a.event);
  const fatal: string[] = [];
  const announcer = seederAnnouncer(infoHash, tracker.url("t"), fatal);
  tracker.hold("t");
  let stopped = false;
  try {
    announcer.start(6881, true);
    await until(() => events().length === 1, "`started` at the tracker", wait);
    const stopping = announcer.stop().then(() => {
      stopped = true;
    });
    await Bun.sleep(300); // time enough for a `stopped` sent at once to arrive
    expect(events()).toEqual(["started"]);
    expect(stopped).toBe(false);
    tracker.release("t"); // `started` answered: now the `stopped`
    await stopping;
  } finally {
    tracker.release("t");
  }
  expect(events()).toEqual(["started", "stopped"]);
  expect(fatal).toEqual([]);
}, 60_000);

test("a stop while `started` gets no reply still sends `stopped`, within the stop's bound", async () => {
  const infoHash = asInfoHash(random20());
  const events = () => tracker.to("t", toHex(infoHash)).map((a) => a.event);
  const announcer = seederAnnouncer(infoHash, tracker.url("t"), []);
  tracker.hold("t"); // never answered while the stop runs
  try {
    announcer.start(6881, true);
    await until(() => events().length === 1, "`started` at the tracker", wait);
    await announcer.stop(); // the wait for `started` and the `stopped` itself are both bounded
    expect(events()).toEqual(["started", "stopped"]);
  } finally {
    tracker.release("t");
  }
}, 60_000);
