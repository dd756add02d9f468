#!/usr/bin/python3
"""The kernel's share of moving 1 GiB over loopback TCP with one copy, as a floor for bench/peer-profile.ts.

  python3 bench/loopback-floor.py <file> [--runs 3]

A sender thread sendfile()s the file (read once first, so it is in the page cache) in 1 MiB calls and a
receiver recv_into()s one reused 256 KiB buffer: the one copy to user space, nothing parsed, hashed or
written. Prints per run each side's CPU (its thread's scheduler run time) in ms per GiB and the machine's
/proc/stat columns over the run. Anything a BitTorrent transfer adds (a header per 16 KiB block,
requests, hashing, the write to disk) comes on top.
"""
import os
import socket
import sys
import threading
import time

GiB = 2**30


def run_time(tid):
    with open(f"/proc/self/task/{tid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def machine():
    with open("/proc/stat") as f:
        return [int(v) / 100 for v in f.readline().split()[1:9]]


def one_run(path, size):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    spent = {}

    def send():
        tid = threading.get_native_id()
        with socket.create_connection(("127.0.0.1", port)) as s:
            fd = os.open(path, os.O_RDONLY)
            start, sent = run_time(tid), 0
            while sent < size:
                sent += os.sendfile(s.fileno(), fd, sent, min(size - sent, 1 << 20))
            spent["sender"] = run_time(tid) - start
            os.close(fd)

    sender = threading.Thread(target=send)
    m0, t0 = machine(), time.monotonic()
    sender.start()
    conn, _ = listener.accept()
    tid = threading.get_native_id()
    start, got, buf = run_time(tid), 0, bytearray(256 * 1024)
    while got < size:
        n = conn.recv_into(buf)
        if n == 0:
            break
        got += n
    spent["receiver"] = run_time(tid) - start
    sender.join()
    seconds, m1 = time.monotonic() - t0, machine()
    conn.close()
    listener.close()
    if got != size:
        raise SystemExit(f"received {got} of {size} bytes")
    gib = size / GiB
    columns = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]
    print(
        f"{size / 1e6 / seconds:.0f} MB/s; sender {spent['sender'] * 1000 / gib:.0f}, receiver {spent['receiver'] * 1000 / gib:.0f}, "
        f"both {(spent['sender'] + spent['receiver']) * 1000 / gib:.0f} ms/GiB; machine ms/GiB "
        + ", ".join(f"{c} {(b - a) * 1000 / gib:.0f}" for c, a, b in zip(columns, m0, m1))
    )


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    path = sys.argv[1]
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass
    for _ in range(runs):
        one_run(path, size)


main()
