#!/usr/bin/env python3
"""A slow web server for the latency mode of benches/compare/run.

Serves the corpus pages from DIR on PORT of each address 127.0.0.1 ...
127.0.0.HOSTS (every 127.0.0.0/8 address is loopback on Linux), answering
each request after LATENCY_MS, with the per-request tokens replaced as nginx
does in the other modes. Each address is one host to the client.

It records, per host, how many requests were in flight at once and the
shortest gap between the end of one response and the next request, and
writes them as JSON to STATS when stopped (SIGTERM or SIGINT):
{"requests", "max_in_flight", "max_in_flight_per_host", "min_gap_s"}.
It prints `ready` on stdout once every address listens.

Usage: slow_server.py DIR PORT HOSTS LATENCY_MS STATS
"""

import asyncio
import json
import pathlib
import signal
import sys
import time
import uuid

TOKEN = b"@@REQUEST_ID@@"


class Stats:
    def __init__(self):
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.per_host = {}
        self.max_per_host = 0
        self.last_end = {}
        self.min_gap = None

    def start(self, host):
        now = time.monotonic()
        self.requests += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        n = self.per_host.get(host, 0) + 1
        self.per_host[host] = n
        self.max_per_host = max(self.max_per_host, n)
        if host in self.last_end and n == 1:
            gap = now - self.last_end[host]
            self.min_gap = gap if self.min_gap is None else min(self.min_gap, gap)

    def end(self, host):
        self.in_flight -= 1
        self.per_host[host] -= 1
        self.last_end[host] = time.monotonic()

    def json(self):
        return {
            "requests": self.requests,
            "max_in_flight": self.max_in_flight,
            "max_in_flight_per_host": self.max_per_host,
            "min_gap_s": self.min_gap,
        }


async def main(root, port, hosts, latency_ms, stats_path):
    root = pathlib.Path(root)
    stats = Stats()
    cache = {}

    async def handle(reader, writer):
        host = writer.get_extra_info("sockname")[0]
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                stats.start(host)
                try:
                    parts = head.split(b"\r\n", 1)[0].split()
                    name = parts[1].decode("ascii", "replace").lstrip("/") if len(parts) > 1 else ""
                    await asyncio.sleep(latency_ms / 1000)
                    body = cache.get(name)
                    if body is None and "/" not in name and name.endswith(".html"):
                        try:
                            body = (root / name).read_bytes()
                            cache[name] = body
                        except OSError:
                            body = None
                    if body is None:
                        status, body, kind = b"404 Not Found", b"not found\n", b"text/plain"
                    else:
                        status, kind = b"200 OK", b"text/html; charset=utf-8"
                        body = body.replace(TOKEN, uuid.uuid4().hex.encode())
                    writer.write(
                        b"HTTP/1.1 " + status + b"\r\nContent-Type: " + kind
                        + b"\r\nContent-Length: " + str(len(body)).encode()
                        + b"\r\nCache-Control: no-store\r\n\r\n" + body
                    )
                    await writer.drain()
                finally:
                    stats.end(host)
        except ConnectionError:
            pass
        finally:
            writer.close()

    servers = []
    for k in range(1, hosts + 1):
        servers.append(await asyncio.start_server(handle, f"127.0.0.{k}", port, backlog=256))
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for s in servers:
        s.close()
    pathlib.Path(stats_path).write_text(json.dumps(stats.json()))


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]))
