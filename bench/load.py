"""Rows 5 and 6: fresh responses POSTed to gunicorn from client threads by a minimal HTTP
client, and the resident memory of a worker."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.signing import BROWSER_TOKEN, request_cookie_name
from bench.timing import percentile


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class LoadResult:
    ok: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def per_second(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def summary(self) -> str:
        failures = f" {dict(self.failures)}" if self.failures else ""
        return (
            f"{self.ok} logins in {self.elapsed:.1f} s ({self.per_second:.0f}/s), "
            f"{self.failed} failed{failures}"
        )

    def latency_ms(self, fraction: float) -> float:
        return percentile(sorted(self.latencies), fraction) * 1000


def _status_and_location(response: bytes) -> tuple[int, str]:
    """The status code and the Location header of a raw HTTP/1.x response."""
    head = response.partition(b"\r\n\r\n")[0].decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP response: {status_line[:80]!r}")
    location = ""
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "location":
            location = value.strip()
    return int(parts[1]), location


def post_once(port: int, request: bytes) -> tuple[int, str]:
    """Send one whole HTTP request on a new connection; read the answer until the server closes.

    A minimal client on purpose: the load loop shares the machine's cores with the server it
    measures, and http.client cost the server a tenth of them (0.35 ms of CPU per login).
    """
    with socket.create_connection(("127.0.0.1", port), timeout=120) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return _status_and_location(b"".join(chunks))


def load(
    port: int,
    path: str,
    bodies: Iterator[bytes],
    *,
    expected_location: str,
    clients: int,
    seconds: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """POST the bodies to `path` from `clients` threads until they run out or time is up."""
    result = LoadResult()
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds if seconds else float("inf")
    head = (
        f"POST {path} HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Cookie: {request_cookie_name()}={BROWSER_TOKEN}\r\n"
        "Connection: close\r\n"
    )

    def client() -> None:
        while time.perf_counter() < deadline:
            with lock:
                body = next(bodies, None)
            if body is None:
                return
            body = body.rstrip(b"\n")
            request = f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
            began = time.perf_counter()
            try:
                status, location = post_once(port, request)
            except (OSError, ValueError) as exc:
                status, location = 0, exc.__class__.__name__
            took = time.perf_counter() - began
            with lock:
                if status == 302 and location == expected_location:
                    result.ok += 1
                    result.latencies.append(took)
                    if progress and result.ok % 10_000 == 0:
                        progress(result.ok)
                else:
                    result.failures[f"{status} {location}".strip()] += 1

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed = time.perf_counter() - start
    return result
