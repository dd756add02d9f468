// bench:tracker's probe of an HTTP listener on raw syscalls through bun:ffi (Linux; --only ffi-serve):
// the same fixed reply as bare-serve.ts with BARE=request (it reads the request line and the client's
// address), but with no per-connection Bun object and fewer syscalls per connection than Bun.serve:
// accept4, recv, send, close. TCP_DEFER_ACCEPT on the listening socket makes accept return a
// connection only once its request has arrived, so recv almost always finds it whole.
//
// Each JS turn accepts every connection waiting (up to BATCH) and answers it at once; when none waits,
// a poller thread (ffi-serve-poller.ts) blocks in poll() on the listening socket and on an epoll set of
// the few connections whose request was not whole yet, and wakes this thread (Atomics.waitAsync), as
// the batched UDP server does. Every connection is answered and closed (HTTP/1.1 with Connection:
// close); a request that does not fit in one buffer, or a reply the kernel does not take whole, just
// closes the connection (a probe, not a server).
import { dlopen, ptr, read, type Pointer } from "bun:ffi";
import { Worker } from "node:worker_threads";

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const IPPROTO_TCP = 6;
const TCP_DEFER_ACCEPT = 9;
const MSG_NOSIGNAL = 0x4000;
const EAGAIN = 11;
const EINTR = 4;
const ECONNABORTED = 103;
const EPOLL_CTL_ADD = 1;
const EPOLLIN = 1;
const EPOLLONESHOT = 1 << 30;
/** Connections accepted per turn at most, and epoll events taken per call. */
const BATCH = 256;
const REQUEST_BYTES = 8192;
// The flags shared with the poller thread (an Int32Array over a SharedArrayBuffer).
const POLLER_ARMED = 0;
const POLLER_READY = 1;
const POLLER_STOP = 2;

export function openLibc() {
  return dlopen("libc.so.6", {
    socket: { args: ["i32", "i32", "i32"], returns: "i32" },
    setsockopt: { args: ["i32", "i32", "i32", "ptr", "u32"], returns: "i32" },
    bind: { args: ["i32", "ptr", "u32"], returns: "i32" },
    listen: { args: ["i32", "i32"], returns: "i32" },
    getsockname: { args: ["i32", "ptr", "ptr"], returns: "i32" },
    accept4: { args: ["i32", "ptr", "ptr", "i32"], returns: "i32" },
    recv: { args: ["i32", "ptr", "u64", "i32"], returns: "i32" },
    send: { args: ["i32", "ptr", "u64", "i32"], returns: "i32" },
    close: { args: ["i32"], returns: "i32" },
    poll: { args: ["ptr", "u64", "i32"], returns: "i32" },
    epoll_create1: { args: ["i32"], returns: "i32" },
    epoll_ctl: { args: ["i32", "i32", "i32", "ptr"], returns: "i32" },
    epoll_wait: { args: ["i32", "ptr", "i32", "i32"], returns: "i32" },
    __errno_location: { args: [], returns: "ptr" },
  }).symbols;
}

const text = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));

// The reply bare-serve.ts gives, with the head Bun.serve writes for it (less its Date).
const PEERS = new Uint8Array(300).fill(0x7f);
const BODY = new Uint8Array([
  ...text("d8:completei10e10:downloadedi0e10:incompletei40e8:intervali1800e12:min intervali900e5:peers300:"),
  ...PEERS,
  ...text("6:peers60:e"),
]);
const HEAD = text(
  `HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=binary\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: ${BODY.length}\r\n\r\n`,
);
const BAD = text("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");

function main(): void {
  const c = openLibc();
  const errno = () => read.i32(c.__errno_location() as Pointer, 0);

  const lfd = c.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) throw new Error(`socket: errno ${errno()}`);
  const one = new Int32Array([1]);
  c.setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, ptr(one), 4);
  if (process.env.DEFER_ACCEPT !== "0") c.setsockopt(lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, ptr(one), 4);
  const name = new Uint8Array(16);
  const nv = new DataView(name.buffer);
  nv.setUint16(0, AF_INET, true);
  nv.setUint16(2, Number(process.env.PORT ?? 0), false);
  name.set([127, 0, 0, 1], 4);
  if (c.bind(lfd, ptr(name), 16) !== 0) throw new Error(`bind: errno ${errno()}`);
  if (c.listen(lfd, 4096) !== 0) throw new Error(`listen: errno ${errno()}`);
  const bound = new Uint8Array(16);
  c.getsockname(lfd, ptr(bound), ptr(new Uint32Array([16])));
  const port = new DataView(bound.buffer).getUint16(2, false);

  const epfd = c.epoll_create1(SOCK_CLOEXEC);
  if (epfd < 0) throw new Error(`epoll_create1: errno ${errno()}`);

  // Every buffer the kernel reads or writes is a view of one ArrayBuffer made as such: its storage never
  // moves. (A small typed array made alone starts in the garbage-collected heap, and JSC moves its
  // storage the first time its .buffer is needed, say for a subarray: a pointer taken before then goes
  // stale. The first version here sent zeros after a while for exactly that reason.)
  const arena = new ArrayBuffer(64 * 1024);
  const base = ptr(new Uint8Array(arena));
  let used = 0;
  const carve = (bytes: number): [Uint8Array, number] => {
    const at = used;
    used += (bytes + 15) & ~15;
    if (used > arena.byteLength) throw new Error("arena too small");
    return [new Uint8Array(arena, at, bytes), base + at];
  };
  const [peer, peerAt] = carve(16);
  const [peerLengthBytes, peerLengthAt] = carve(4);
  const peerLength = new Uint32Array(peerLengthBytes.buffer, peerLengthBytes.byteOffset, 1);
  const [request, requestAt] = carve(REQUEST_BYTES);
  const [reply, replyAt] = carve(HEAD.length + BODY.length);
  reply.set(HEAD);
  const [bad, badAt] = carve(BAD.length);
  bad.set(BAD);
  const [events, eventsAt] = carve(BATCH * 12); // struct epoll_event is packed on x86-64: u32 events, u64 data
  const eventsView = new DataView(arena, events.byteOffset, events.byteLength);
  const [event, eventAt] = carve(12);
  const eventView = new DataView(arena, event.byteOffset, 12);
  const latin1 = new TextDecoder("latin1");

  /** Connections accepted before their request was whole: fd -> client address and bytes so far. */
  const partial = new Map<number, { ip: string; had: Uint8Array }>();
  const stats = { accepted: 0, dropped: 0, deferred: 0, shortSends: 0, turns: 0, wakes: 0 };

  const headEnd = (buf: Uint8Array, n: number): boolean => {
    for (let i = n - 4; i >= 0 && i >= n - 8; i--) if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return true;
    return false;
  };

  /** Answers the request in `buf[0..n)` and closes the connection. */
  const answer = (fd: number, buf: Uint8Array, n: number, ip: string): void => {
    // The request line's target, as Bun.serve's request.url reads it.
    let url = "";
    if (buf[0] === 71 && buf[1] === 69 && buf[2] === 84 && buf[3] === 32) {
      let end = 4;
      while (end < n && buf[end] !== 32) end++;
      url = latin1.decode(buf.subarray(4, end));
    }
    if (url.length === 0 || ip.length === 0) {
      c.send(fd, badAt, BAD.length, MSG_NOSIGNAL);
    } else {
      reply.set(BODY, HEAD.length); // a fresh reply each time, as bare-serve's REPLY.slice()
      const sent = c.send(fd, replyAt, reply.length, MSG_NOSIGNAL);
      if (sent !== reply.length) stats.shortSends++;
    }
    c.close(fd);
  };

  const ipOf = (): string => (peer[0] === AF_INET ? `${peer[4]}.${peer[5]}.${peer[6]}.${peer[7]}` : "");

  const onAccepted = (fd: number): void => {
    const ip = ipOf();
    const n = c.recv(fd, requestAt, REQUEST_BYTES, 0);
    if (n > 0 && headEnd(request, n)) return answer(fd, request, n, ip);
    if (n === 0 || (n < 0 && errno() !== EAGAIN) || n === REQUEST_BYTES) {
      stats.dropped++;
      c.close(fd);
      return;
    }
    stats.deferred++;
    partial.set(fd, { ip, had: n > 0 ? request.slice(0, n) : new Uint8Array(0) });
    eventView.setUint32(0, EPOLLIN | EPOLLONESHOT, true);
    eventView.setUint32(4, fd, true);
    eventView.setUint32(8, 0, true);
    c.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, eventAt);
  };

  const onReadable = (fd: number): void => {
    const waiting = partial.get(fd);
    if (waiting === undefined) return;
    partial.delete(fd); // epoll forgets it when it is closed
    const { ip, had } = waiting;
    const n = c.recv(fd, requestAt, REQUEST_BYTES - had.length, 0);
    if (n <= 0 || had.length + n >= REQUEST_BYTES) {
      c.close(fd);
      return;
    }
    const whole = new Uint8Array(had.length + n);
    whole.set(had);
    whole.set(request.subarray(0, n), had.length);
    if (!headEnd(whole, whole.length)) {
      // Still not whole: back to waiting (ONESHOT needs re-arming; a probe just closes it).
      c.close(fd);
      return;
    }
    answer(fd, whole, whole.length, ip);
  };

  /** One turn: accept what waits, answer it; true if anything was done. */
  const turnOnce = (): boolean => {
    stats.turns++;
    let did = 0;
    for (; did < BATCH; did++) {
      peerLength[0] = 16;
      const fd = c.accept4(lfd, peerAt, peerLengthAt, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        const e = errno();
        if (e === ECONNABORTED || e === EINTR) continue;
        break; // EAGAIN, or out of descriptors: the poller tells when to try again
      }
      stats.accepted++;
      onAccepted(fd);
    }
    if (partial.size > 0) {
      const n = c.epoll_wait(epfd, eventsAt, BATCH, 0);
      for (let i = 0; i < n; i++) onReadable(eventsView.getUint32(i * 12 + 4, true));
      did += Math.max(n, 0);
    }
    return did > 0;
  };

  const flags = new Int32Array(new SharedArrayBuffer(12));
  const poller = new Worker(new URL("./ffi-serve-poller.ts", import.meta.url), { workerData: { lfd, epfd, state: flags.buffer } });
  poller.on("error", (err) => console.error(`poller failed: ${err}`));
  const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: unknown } }).waitAsync;

  const drain = (): void => {
    if (turnOnce()) {
      setImmediate(drain);
      return;
    }
    // Nothing waits: the poller blocks in poll() and wakes this thread once something does.
    Atomics.store(flags, POLLER_READY, 0);
    Atomics.store(flags, POLLER_ARMED, 1);
    Atomics.notify(flags, POLLER_ARMED);
    const woken = waitAsync(flags, POLLER_READY, 0);
    if (woken.async) (woken.value as Promise<unknown>).then(onWake);
    else onWake();
  };
  const onWake = (): void => {
    stats.wakes++;
    drain();
  };

  process.on("SIGTERM", () => {
    if (process.env.FFI_STATS) console.error(JSON.stringify(stats));
    Atomics.store(flags, POLLER_STOP, 1);
    Atomics.notify(flags, POLLER_ARMED);
    c.close(lfd);
    process.exit(0);
  });
  console.log(`listening on ${port}`);
  drain();
}

if (import.meta.main) main();
