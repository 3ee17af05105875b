#!/usr/bin/env python3
"""Holds N idle keep-alive connections to a server on loopback, for bench/idle_connections.sh.

Each connection sends one `GET /healthz` and reads its answer (so it is an idle keep-alive
connection, held by the server's idle timeout rather than its first-byte timeout), then stays
open sending nothing. Prints "ready <open> <failed>" once every connection has its answer, then
holds them until stdin closes or SIGTERM, and closes them all.

usage: idle_hold.py PORT COUNT
"""
import resource
import selectors
import signal
import socket
import sys


def main():
    port, count = int(sys.argv[1]), int(sys.argv[2])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64), hard))
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    sel = selectors.DefaultSelector()
    conns, failed = [], 0
    for _ in range(count):
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(request)
        except OSError:
            failed += 1
            s.close()
            continue
        s.setblocking(False)
        conns.append(s)
        sel.register(s, selectors.EVENT_READ, bytearray())
    waiting = len(conns)
    while waiting > 0:
        events = sel.select(timeout=30)
        if not events:
            failed += waiting
            break
        for key, _ in events:
            try:
                chunk = key.fileobj.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                failed += 1
                waiting -= 1
                sel.unregister(key.fileobj)
                continue
            key.data.extend(chunk)
            head, sep, _ = key.data.partition(b"\r\n\r\n")
            if sep:
                # Refused (a 503 over the connection cap) counts as failed, and stays open.
                if not head.startswith(b"HTTP/1.1 200"):
                    failed += 1
                waiting -= 1
                sel.unregister(key.fileobj)
    open_count = len(conns) - failed
    print(f"ready {open_count} {failed}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        sys.stdin.read()
    finally:
        for s in conns:
            s.close()


if __name__ == "__main__":
    main()
