// A torrent's start, pause, resume and recheck run one after another (each awaits connections closing, a
// check...): a promise chain, and how many steps are queued or under way (a torrent with one is not dormant).
export class StepQueue {
  private tail: Promise<void> = Promise.resolve();
  private count = 0;

  /** Steps queued or under way. */
  get pending(): number {
    return this.count;
  }

  /** Runs `step` once the steps before it settled; its promise settles with it (a failure does not stop the queue). */
  run(step: () => Promise<void>): Promise<void> {
    this.count++;
    const next = this.tail.then(step).finally(() => this.count--);
    this.tail = next.catch(() => {});
    return next;
  }
}
