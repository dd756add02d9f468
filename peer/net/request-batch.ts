// Our block requests to one peer, encoded back to back into one reused buffer, so that the requests made
// while a received chunk's blocks are handled leave in one write rather than one each. PeerConnection
// decides when the batch goes; this only holds the frames. Apart from the connection so that the
// encoding and its buffer are one small thing to read.
import { writeRequest } from "../../shared/wire/codec.ts";

/** A request message's bytes: length prefix, id, index, begin, length. */
const REQUEST_FRAME = 17;
/** Requests held before the batch must go. */
const BATCH_FRAMES = 64;

export class RequestBatch {
  private readonly frames = new Uint8Array(REQUEST_FRAME * BATCH_FRAMES);
  private length = 0;

  /** Whether no further request fits: the batch must go first. */
  get full(): boolean {
    return this.length + REQUEST_FRAME > this.frames.length;
  }

  add(index: number, begin: number, length: number): void {
    writeRequest(this.frames, this.length, index, begin, length);
    this.length += REQUEST_FRAME;
  }

  /** The frames held, handed over and the batch emptied: a view of the reused buffer (a write borrows it); null when empty. */
  take(): Uint8Array | null {
    if (this.length === 0) return null;
    const frames = this.frames.subarray(0, this.length);
    this.length = 0;
    return frames;
  }
}
