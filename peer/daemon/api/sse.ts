// GET /api/v1/events: the daemon's events as Server-Sent Events, one `event: <kind>` and one `data:`
// line of JSON each, optionally of one torrent. A stream subscribes when it opens and unsubscribes when
// it ends, whichever way: the client goes away (cancel, or the request's abort), the server stops, or
// the client reads too slowly; no listener outlives its stream, and none can hold unbounded memory.
import type { DaemonControl, DaemonEvent } from "../control.ts";

/** Comment lines keep proxies and Bun's idle timeout from closing a quiet stream. */
export const KEEP_ALIVE_MS = 15_000;
/** Events queued for a client that does not read; past this it is dropped (it can reconnect). */
const MAX_QUEUED = 4096;

const encoder = new TextEncoder();

export function eventText(event: DaemonEvent): string {
  // JSON.stringify never writes a raw newline, so the data is one line.
  return `event: ${event.event}\ndata: ${JSON.stringify(event)}\n\n`;
}

export class EventStreams {
  private readonly closers = new Set<() => void>();

  constructor(
    private readonly control: DaemonControl,
    private readonly keepAliveMs = KEEP_ALIVE_MS,
  ) {}

  /** Streams open now (a gauge on /metrics: a leak would show as growth). */
  get open(): number {
    return this.closers.size;
  }

  respond(request: Request, infoHash: string | null): Response {
    let close = () => {};
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        let closed = false;
        const send = (text: string) => controller.enqueue(encoder.encode(text));
        const unsubscribe = this.control.subscribe((event) => {
          if (closed || (infoHash !== null && event.infoHash !== infoHash)) return;
          if ((controller.desiredSize ?? 0) < -MAX_QUEUED) return close();
          send(eventText(event));
        });
        const timer = setInterval(() => send(": keep-alive\n\n"), this.keepAliveMs);
        close = () => {
          if (closed) return;
          closed = true;
          clearInterval(timer);
          unsubscribe();
          this.closers.delete(close);
          request.signal.removeEventListener("abort", close);
          try {
            controller.close();
          } catch {
            // Already closed or errored by the runtime: nothing left to end.
          }
        };
        this.closers.add(close);
        request.signal.addEventListener("abort", close);
        // A first line at once, so the client sees the headers (and knows it is subscribed) before any event.
        send(": subscribed\n\n");
      },
      cancel: () => close(),
    });
    return new Response(body, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" },
    });
  }

  closeAll(): void {
    for (const close of [...this.closers]) close();
  }
}
