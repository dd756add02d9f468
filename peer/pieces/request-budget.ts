// The download limit, kept by paying for requests rather than by pausing the socket: a block is asked for
// only when the budget holds its bytes, and they are spent when it is asked. So what peers send us never
// exceeds the budget's burst plus its rate over any stretch of time (blocks nobody asked for are dropped,
// and bounded per peer: MAX_UNREQUESTED_BLOCKS, requests.ts), and the pipeline shrinks to what the limit allows
// instead of overshooting it. A paused socket would let a whole pipeline of requested bytes pile up in
// the kernel, and keep the peer's `have`s and keep-alives waiting behind them.
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import type { ByteBudget } from "../net/rate-budget.ts";

export class RequestBudget {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    /** The torrent's and the client's download limits together (RateBudget), or a bucket in tests. */
    private readonly limit: ByteBudget,
    /** Tops the pipelines up (called once the budget holds a few blocks again). */
    private readonly refill: () => void,
  ) {}

  /** Of `room` blocks wanted, how many may be asked for now; when fewer, a refill is scheduled. */
  affordable(room: number): number {
    if (this.limit.rate === Number.POSITIVE_INFINITY) return room;
    const blocks = Math.floor(this.limit.available() / BLOCK_SIZE);
    if (blocks >= room) return room;
    this.wake();
    return Math.max(0, blocks);
  }

  /** A request of `bytes` went out. */
  spend(bytes: number): void {
    this.limit.spend(bytes);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Once a tenth of a second's worth (one to sixteen blocks) is there: a few requests at a time, not one per block. */
  private wake(): void {
    if (this.timer) return;
    const enough = Math.max(BLOCK_SIZE, Math.min(16 * BLOCK_SIZE, Math.floor(this.limit.rate / 10 / BLOCK_SIZE) * BLOCK_SIZE));
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.refill();
      },
      Math.max(1, this.limit.msUntil(enough)),
    );
    this.timer.unref?.();
  }
}
