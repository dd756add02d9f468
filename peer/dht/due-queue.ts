// A min-heap of (due time, item): the announcer's waiting torrents in the order their lookups fall due.
// Pushing and popping cost O(log n), so a daemon with tens of thousands of torrents does not sort them
// all whenever one is added or a lookup ends. Entries are never removed from the middle: the owner
// pushes a fresh one when an item's due time changes and skips those that went stale.

export class DueQueue<T> {
  private readonly heap: { due: number; item: T }[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(due: number, item: T): void {
    const heap = this.heap;
    heap.push({ due, item });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.due <= due) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  peek(): { due: number; item: T } | undefined {
    return this.heap[0];
  }

  pop(): { due: number; item: T } | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || !last) return top;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && heap[left]!.due < heap[least]!.due) least = left;
      if (right < heap.length && heap[right]!.due < heap[least]!.due) least = right;
      if (least === i) return top;
      [heap[i], heap[least]] = [heap[least]!, heap[i]!];
      i = least;
    }
  }

  clear(): void {
    this.heap.length = 0;
  }
}
