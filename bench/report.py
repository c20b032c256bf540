"""The report: the machine and versions it ran on, and the table of rows."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from lxml import etree


@dataclass
class Row:
    size: int
    step: str
    measurement: str
    result: str
    ratio: str = ""
    target: str = ""
    met: str = ""


def ratio(value_ms: float, floor_ms: float) -> str:
    return f"{value_ms / floor_ms:.1f}x"


def ms(value: float) -> str:
    return f"{value:.3f} ms" if value < 1 else f"{value:.2f} ms"


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def render(header: list[str], rows: list[Row], notes: list[str]) -> str:
    heading = ["attrs", "#", "measurement", "result", "x floor", "target", "met"]
    align = [">", "<", "<", "<", ">", "<", "<"]
    cells = [
        [str(row.size), row.step, row.measurement, row.result, row.ratio, row.target, row.met]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [heading, *cells]) for i in range(len(heading))]

    def line(values: list[str]) -> str:
        return "  ".join(
            f"{value:{a}{w}}" for value, a, w in zip(values, align, widths, strict=True)
        ).rstrip()

    out = [*header, "", line(heading), line(["-" * width for width in widths])]
    for index, values in enumerate(cells):
        if index and rows[index].size != rows[index - 1].size:
            out.append("")
        out.append(line(values))
    return "\n".join([*out, "", *notes])


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _xmlsec1_program() -> str:
    from sso.saml.config import _xmlsec_binary

    try:
        binary = _xmlsec_binary()
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"unavailable ({exc.__class__.__name__})"
    return out.stdout.strip()


def machine_lines(shared_cache_url: str | None) -> list[str]:
    import xmlsec
    from django.conf import settings

    libxmlsec = ".".join(str(part) for part in xmlsec.get_libxmlsec_version())
    libxml2 = ".".join(str(part) for part in etree.LIBXML_VERSION)
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    return [
        f"ACS benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"machine: {_cpu_model()}, {os.cpu_count()} cores ({affinity} usable), "
        f"{platform.system()} {platform.release()}",
        f"python {platform.python_version()}; pysaml2 {_version('pysaml2')}; "
        f"xmlsec {_version('xmlsec')} (libxmlsec1 {libxmlsec}); "
        f"xmlsec1 program: {_xmlsec1_program()}",
        f"lxml {_version('lxml')} (libxml2 {libxml2}); cryptography {_version('cryptography')}; "
        f"signxml {_version('signxml')}; Django {_version('django')}; "
        f"djangosaml2 {_version('djangosaml2')}; gunicorn {_version('gunicorn')}",
        f"configured SSO_SIGNATURE_BACKEND={settings.SSO_SIGNATURE_BACKEND!r}; "
        f"database: throwaway SQLite (WAL); cache: rows 1-4 "
        f"{settings.CACHES['default']['BACKEND'].rpartition('.')[2]} in this process, rows 5-6 "
        + (
            f"Redis shared by the workers ({_redis_version()})"
            if shared_cache_url
            else "LocMemCache per worker (no redis-server found: the workers share no cache)"
        ),
    ]


def _redis_version() -> str:
    try:
        out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
    except OSError:
        return "version unknown"
    return out.stdout.split(" v=")[1].split()[0] if " v=" in out.stdout else "version unknown"
