// UDP replies gathered while the runtime hands over a batch of datagrams, then sent together: on Bun
// one sendMany (sendmmsg) per batch instead of one send per reply, which profiling showed to be
// nearly half of the tracker's CPU time per announce. `schedule` runs the flush after the current
// batch of received datagrams has been handled (setImmediate on Bun).

export type SendMany = (items: Array<Uint8Array | number | string>) => void;

export class ReplyBatch {
  private items: Array<Uint8Array | number | string> = [];
  private scheduled = false;

  constructor(
    private readonly sendMany: SendMany,
    private readonly schedule: (flush: () => void) => void,
  ) {}

  add(reply: Uint8Array, port: number, address: string): void {
    this.items.push(reply, port, address);
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const items = this.items;
    this.items = [];
    this.sendMany(items);
  };
}
