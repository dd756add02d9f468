// Fuzz: the MSE/PE handshake state machines (shared/mse) on hostile bytes. A receiver is fed mutated
// initiator streams (valid ones for its seeded key, so mutations reach every state past the DH value)
// and pure noise; an initiator likewise gets mutated receiver streams. Cut into random chunks, every
// feed either returns or throws an MseError with a known code and a message; nothing else escapes; the
// bytes held waiting stay under the largest field a handshake waits for; no feed allocates more than a
// small multiple of what it was given; once failed, the machine is not fed again.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { MseError, MseInitiator, MseReceiver, SkeyTable, type MseMethod, type MseStep } from "../../shared/mse/index.ts";
import { MSE_PAD_MAX } from "../../shared/mse/methods.ts";
import { encodeHandshake } from "../../shared/wire/handshake.ts";
import { install, metered, uninstall } from "./alloc-meter.ts";
import { fuzzSettings, fuzzTimeout, Mutator, Rng, runFuzz } from "./fuzz-kit.ts";

const CODES = new Set(["bad-public-key", "sync-failed", "unknown-info-hash", "bad-vc", "bad-padding", "no-common-method", "bad-select", "handshake-too-large"]);
const settings = fuzzSettings(3000);
const MAX_IA = 16 * 1024;
const INFO_HASH = new Rng(7).bytes(20);
const SKEYS = new SkeyTable([new Rng(8).bytes(20), INFO_HASH]);
const IA = encodeHandshake({ reserved: new Uint8Array(8), infoHash: INFO_HASH, peerId: new Rng(9).bytes(20) });

const outcomes = new Map<string, number>();
beforeAll(install);
afterAll(uninstall);

const seeded = (seed: number) => {
  const rng = new Rng(seed);
  return (n: number) => rng.bytes(n);
};
const receiver = (accept: MseMethod[]) => new MseReceiver({ skeys: SKEYS, accept, maxInitialPayload: MAX_IA, random: seeded(2) });
const initiator = (provide: MseMethod[]) => {
  const a = new MseInitiator({ infoHash: INFO_HASH, provide, initialPayload: IA, random: seeded(1) });
  return { a, ya: a.start() };
};

/** Valid byte streams each side sends, for the seeded keys above (the receiver's includes a payload tail). */
function corpus(): { fromInitiator: Uint8Array[]; fromReceiver: Uint8Array[] } {
  const fromInitiator: Uint8Array[] = [];
  const fromReceiver: Uint8Array[] = [];
  for (const [provide, accept] of [
    [["rc4"], ["rc4"]],
    [
      ["rc4", "plaintext"],
      ["plaintext", "rc4"],
    ],
    [["plaintext"], ["rc4", "plaintext"]],
  ] as [MseMethod[], MseMethod[]][]) {
    const { a, ya } = initiator(provide);
    const b = receiver(accept);
    const yb = b.feed(ya).send!;
    const step3 = a.feed(yb).send!;
    const step4 = b.feed(step3).send!;
    fromInitiator.push(Uint8Array.from([...ya, ...step3]));
    fromReceiver.push(Uint8Array.from([...yb, ...step4, ...IA]));
  }
  return { fromInitiator, fromReceiver };
}

function checkMseError(error: unknown): void {
  if (!(error instanceof MseError)) throw new Error(`threw something other than an MseError: ${String(error)}`, { cause: error });
  if (!CODES.has(error.code) || error.message === "") throw new Error(`an MseError without a known code or message: ${error.code}`);
}

/** Feeds `input` in random chunks; checks each feed's outcome, the bytes held and the allocation. */
function drive(machine: { feed(chunk: Uint8Array): MseStep; readonly buffered: number }, input: Uint8Array, rng: Rng, maxBuffered: number): void {
  for (let at = 0; at < input.length; ) {
    const chunk = input.subarray(at, at + 1 + rng.int(rng.chance(0.3) ? 8 : 800));
    at += chunk.length;
    const held = machine.buffered;
    const run = metered(() => machine.feed(chunk));
    if (run.bytes > 3 * (held + chunk.length) + 8192) throw new Error(`a feed of ${chunk.length} bytes allocated ${run.bytes}`);
    if (run.threw) {
      checkMseError(run.error);
      outcomes.set((run.error as MseError).code, (outcomes.get((run.error as MseError).code) ?? 0) + 1);
      return;
    }
    if (run.value!.done) {
      outcomes.set("done", (outcomes.get("done") ?? 0) + 1);
      return;
    } // the rest is payload, no longer the handshake's business
    if (machine.buffered > maxBuffered) throw new Error(`holds ${machine.buffered} bytes waiting (bound ${maxBuffered})`);
  }
}

test(
  `fuzz: a receiver fed mutated initiator streams and noise fails only with a typed MseError, holding bounded bytes (${settings.cases} cases)`,
  async () => {
    const mutator = new Mutator(corpus().fromInitiator, [], 4096);
    await runFuzz(
      "mse-receiver",
      settings,
      (rng) => (rng.chance(0.1) ? rng.bytes(rng.int(1500)) : mutator.next(rng)),
      (input, rng) => {
        drive(receiver(rng.chance(0.5) ? ["rc4", "plaintext"] : ["rc4"]), input, rng, MAX_IA);
      },
    );
  },
  fuzzTimeout(settings, 20),
);

test(
  `fuzz: an initiator fed mutated receiver streams and noise fails only with a typed MseError, holding bounded bytes (${settings.cases} cases)`,
  async () => {
    const mutator = new Mutator(corpus().fromReceiver, [], 4096);
    await runFuzz(
      "mse-initiator",
      settings,
      (rng) => (rng.chance(0.1) ? rng.bytes(rng.int(1500)) : mutator.next(rng)),
      (input, rng) => {
        drive(initiator(rng.chance(0.5) ? ["rc4", "plaintext"] : ["plaintext"]).a, input, rng, MSE_PAD_MAX + 8);
      },
    );
  },
  fuzzTimeout(settings, 20),
);

test("the corpus is valid: unmutated streams complete both handshakes", () => {
  const { fromInitiator, fromReceiver } = corpus();
  const b = receiver(["rc4", "plaintext"]);
  const done = b.feed(fromInitiator[0]!).done;
  expect(done?.initialPayload).toEqual(IA);
  const { a } = initiator(["rc4"]);
  expect(a.feed(fromReceiver[0]!).done?.rest.length).toBe(IA.length); // the tail, as payload
});

test("the mutations reach every state: both sides completed, and each kind of failure past the DH value occurred", () => {
  if (settings.cases < 1000) return; // a replay of one case proves nothing about reach
  for (const kind of ["done", "sync-failed", "unknown-info-hash", "bad-vc", "bad-padding", "no-common-method", "bad-select", "handshake-too-large"]) {
    expect(outcomes.get(kind) ?? 0).toBeGreaterThan(0);
  }
});
