"""`make bench`: the app under gunicorn with production settings, loaded over loopback with wrk.

Creates a throw-away database next to the one in DATABASE_URL (PostgreSQL), seeds it, starts
gunicorn on a free loopback port, measures every scenario against a baseline in the same run,
then seeds up to the large size and measures the review pages again. Prints one table and writes
it to docs/benchmarks.md; stops the server and drops the database whatever happens.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import rules_timing  # noqa: E402

PYTHON = sys.executable
WRK_THREADS = 2
WRK_CONNECTIONS = 8


@dataclass
class Result:
    """One measured scenario."""

    name: str
    label: str
    size: int
    rps: float
    p50_ms: float
    p95_ms: float
    requests: int
    problems: list[str] = field(default_factory=list)
    # Rows on the page, for the review queue (its cost grows with the rows it lists).
    rows: int | None = None


# (scenario, label, expected status, distinct requests prepared)
SCENARIOS = [
    ("baseline", "Baseline: /healthz (one query)", 200, 1),
    ("step_get", "Intake step GET (heaviest step)", 200, 64),
    ("step_post", "Intake step POST (heaviest step)", 302, 64),
    ("submit", "Final submit POST (new submission each)", 302, 0),
    ("resume", "Resume a draft (continue-later link)", 302, 64),
    ("queue", "Review queue, default order", 200, 1),
    ("queue_unreviewed_week", "Review queue, unreviewed, next 7 days", 200, 1),
    ("submission_page", "Submission page (most flags)", 200, 1),
]
LARGE_SCENARIOS = ("baseline", "queue", "queue_unreviewed_week", "submission_page")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=8, help="Measured seconds per scenario")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument(
        "--only",
        metavar="SCENARIO,…",
        help="While working on one page: measure only these scenarios (and the baseline) at the "
        "small size, print the figures and write no report",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="Write the report again from the last run's figures (docs/benchmarks.json)",
    )
    args = parser.parse_args()
    figures = args.output.with_suffix(".json")
    if args.report_only:
        saved = json.loads(figures.read_text(encoding="utf-8"))
        results = [Result(**item) for item in saved["results"]]
        write(args.output, render(results, saved["timings"], **saved["sizes"]))
        return

    server_url = os.environ.get("DATABASE_URL", "")
    if urlsplit(server_url).scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit("make bench needs DATABASE_URL=postgres://… (the local PostgreSQL).")
    only = _only(args.only) if args.only else None
    started = time.monotonic()
    bench = Bench(server_url, seconds=args.seconds)
    try:
        if only is not None:
            bench.run_only(args.small, only)
            return
        results, timings = bench.run(args.small, args.large)
    except BaseException:
        # The server's own lines say why a request failed; the log goes with the clean-up.
        log = bench.work / "gunicorn.log"
        if log.exists():
            print("".join(log.read_text(errors="replace").splitlines(True)[-40:]), file=sys.stderr)
        raise
    finally:
        bench.clean_up()
    timings["total_s"] = time.monotonic() - started
    timings["machine"] = _machine(timings)
    sizes = {"small": args.small, "large": args.large, "seconds": args.seconds}
    saved = {"results": [vars(result) for result in results], "timings": timings, "sizes": sizes}
    figures.write_text(json.dumps(saved, indent=1) + "\n", encoding="utf-8")
    write(args.output, render(results, timings, **sizes))


def _only(names: str) -> list[str]:
    known = [name for name, *_ in SCENARIOS]
    chosen = [name.strip() for name in names.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise SystemExit(f"Unknown scenario {', '.join(unknown)}; choose from {', '.join(known)}.")
    return ["baseline", *(name for name in known if name in chosen and name != "baseline")]


def write(output: Path, report: str) -> None:
    print(report)
    output.write_text(report, encoding="utf-8")
    print(f"\nWritten to {output}")


class Bench:
    def __init__(self, server_url: str, *, seconds: int) -> None:
        parts = urlsplit(server_url)
        self.database = f"{unquote(parts.path.lstrip('/'))}_bench_{os.getpid()}"
        self.admin_url = server_url
        self.url = urlunsplit(parts._replace(path="/" + self.database))
        self.seconds = seconds
        self.port = _free_port()
        self.origin = f"https://127.0.0.1:{self.port}"
        self.work = Path(tempfile.mkdtemp(prefix="intake-bench-"))
        self.server: subprocess.Popen[bytes] | None = None
        self.env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "LOG_LEVEL": "WARNING",
            # One address sends every request here; the abuse limits would answer most with 429.
            "RATE_LIMIT_STARTS_PER_HOUR": "0",
            "RATE_LIMIT_SUBMISSIONS_PER_HOUR": "0",
            "RATE_LIMIT_EMAILS_PER_HOUR": "0",
        }
        self.created = False

    # Set-up and tear-down

    def _sql(self, statement: str, url: str | None = None) -> str:
        """Run one statement outside a transaction (CREATE DATABASE, VACUUM); its first value."""
        parts = urlsplit(url or self._maintenance())
        connection = psycopg2.connect(
            dbname=unquote(parts.path.lstrip("/")),
            user=unquote(parts.username or "") or None,
            password=unquote(parts.password or "") or None,
            host=parts.hostname or None,
            port=parts.port,
        )
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(statement)
                row = cursor.fetchone() if cursor.description else None
        finally:
            connection.close()
        return "" if row is None else str(row[0])

    def _maintenance(self) -> str:
        return urlunsplit(urlsplit(self.admin_url)._replace(path="/postgres"))

    def manage(self, *args: str) -> None:
        subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, check=True)

    def run(self, small: int, large: int) -> tuple[list[Result], dict[str, Any]]:
        timings: dict[str, Any] = {}
        self._sql(f'CREATE DATABASE "{self.database}"')
        self.created = True
        self.manage("migrate", "--noinput", "-v0")
        self.manage("collectstatic", "--noinput", "-v0")
        self.manage("load_question_set", "intake/question_sets/skinpen.json", "--publish")
        timings["seed_small_s"] = self.seed(small)
        self.start_server()
        engine = rules_timing.measure()
        results = [
            self.measure(name, label, status, count, small)
            for name, label, status, count in SCENARIOS
        ]
        timings["seed_large_s"] = self.seed(large - small)
        began = time.monotonic()
        self._sql("VACUUM ANALYZE", self.url)
        timings["vacuum_s"] = time.monotonic() - began
        for name, label, status, count in SCENARIOS:
            if name in LARGE_SCENARIOS:
                results.append(self.measure(name, label, status, count, large))
        timings["worker_rss_mb"] = self.worker_rss_mb()
        timings["engine"] = engine
        timings["postgres"] = self._sql("SHOW server_version")
        return results, timings

    def run_only(self, small: int, names: list[str]) -> None:
        """A quick look at a few scenarios while working on them; nothing is written."""
        self._sql(f'CREATE DATABASE "{self.database}"')
        self.created = True
        self.manage("migrate", "--noinput", "-v0")
        self.manage("collectstatic", "--noinput", "-v0")
        self.manage("load_question_set", "intake/question_sets/skinpen.json", "--publish")
        self.seed(small)
        self.start_server()
        results = [
            self.measure(name, label, status, count, small)
            for name, label, status, count in SCENARIOS
            if name in names
        ]
        baseline = results[0].rps
        for result in results:
            print(f"{result.label}: {result.rps / baseline:.2f} of the baseline {result.problems}")

    def seed(self, count: int) -> float:
        began = time.monotonic()
        # The database was made by this run: seed.py may skip the per-row foreign-key checks.
        subprocess.run(
            [PYTHON, "bench/seed.py", "--count", str(count), "--own-database"],
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        return time.monotonic() - began

    def start_server(self) -> None:
        log = open(self.work / "gunicorn.log", "wb")  # noqa: SIM115 - lives as long as the server
        self.server = subprocess.Popen(
            [str(Path(PYTHON).with_name("gunicorn")), "clinic.wsgi", "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not start; see " + str(self.work / "gunicorn.log"))

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each gunicorn worker, in MB."""
        assert self.server is not None  # noqa: S101
        children = Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children").read_text()
        sizes = []
        for pid in children.split():
            status = Path(f"/proc/{pid}/status").read_text()
            match = re.search(r"VmRSS:\s+(\d+) kB", status)
            if match:
                sizes.append(int(match.group(1)) / 1024)
        return sizes

    def clean_up(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
        if self.created:
            self._sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        for path in sorted(self.work.glob("*")):
            path.unlink()
        self.work.rmdir()

    # Measuring

    def measure(self, name: str, label: str, status: int, count: int, size: int) -> Result:
        if name == "submit":
            # A new submission each time: enough fresh drafts for the warm-up and the run.
            count = max(2000, int(self.calibrate_submit() * (self.seconds + 3) * 1.5))
        before = self.submission_count() if name == "submit" else 0
        subprocess.run(
            [PYTHON, "bench/prepare.py", str(self.work), name, str(max(count, 1))],
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        requests = self.work / f"{name}.tsv"
        self.wrk(requests, status, seconds=2)  # warm-up, not counted
        figures = self.wrk(requests, status, seconds=self.seconds)
        problems = []
        if figures["unexpected_status"]:
            problems.append(f"{figures['unexpected_status']} responses were not {status}")
        if figures["socket_errors"]:
            problems.append(f"{figures['socket_errors']} socket errors")
        if name == "submit":
            made = self.submission_count() - before
            if figures["sent"] > figures["distinct"]:
                problems.append("ran out of fresh drafts; some submits were repeats")
            if made < figures["requests"]:
                problems.append(f"{figures['requests']} submits stored {made} submissions")
        result = Result(
            name=name,
            label=label,
            size=size,
            rps=figures["rps"],
            p50_ms=figures["p50_ms"],
            p95_ms=figures["p95_ms"],
            requests=figures["requests"],
            problems=problems,
            rows=self.rows_listed(requests) if name.startswith("queue") else None,
        )
        print(
            f"{label} at {size:,}: {result.rps:.0f} req/s, p50 {result.p50_ms:.1f} ms", flush=True
        )
        return result

    def rows_listed(self, requests: Path) -> int:
        """How many submissions the page lists (one selection box per row)."""
        method, path, cookie, _ = requests.read_text(encoding="utf-8").split("\n")[0].split("\t")
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            method=method,
            headers={"Cookie": cookie, "X-Forwarded-Proto": "https"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            page: str = response.read().decode()
        return page.count('name="_selected_action"')

    def calibrate_submit(self) -> float:
        """A rough submits-per-second figure, so that enough drafts are prepared."""
        subprocess.run(
            [PYTHON, "bench/prepare.py", str(self.work), "submit", "300"],
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        figures = self.wrk(self.work / "submit.tsv", 302, seconds=1)
        return float(max(figures["requests"], 100))

    def wrk(self, requests: Path, status: int, *, seconds: int) -> dict[str, Any]:
        output = subprocess.run(
            [
                "wrk",
                f"-t{WRK_THREADS}",
                f"-c{WRK_CONNECTIONS}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(ROOT / "bench" / "wrk.lua"),
                f"http://127.0.0.1:{self.port}",
                "--",
                str(requests),
                self.origin,
                str(WRK_THREADS),
                str(status),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        line = next(line for line in output.splitlines() if line.startswith("{"))
        figures: dict[str, Any] = json.loads(line)
        return figures

    def submission_count(self) -> int:
        return int(self._sql("SELECT count(*) FROM intake_submission", self.url))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# The report


TARGETS = {
    # scenario: (minimum ratio of the baseline's requests/s)
    "step_get": 0.40,
    "submit": 0.25,
}


def render(
    results: list[Result], timings: dict[str, Any], *, small: int, large: int, seconds: int
) -> str:
    """docs/benchmarks.md: the machine, the table, and each target met or missed."""
    baselines = {r.size: r for r in results if r.name == "baseline"}
    rows = [
        "| Scenario | Submissions | Requests/s | p50 ms | p95 ms | Requests/s ÷ baseline |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        base = baselines[result.size]
        ratio = result.rps / base.rps if base.rps else 0.0
        label = result.label
        if result.rows is not None:
            label += f" ({result.rows} rows listed)"
        note = f" ⚠ {'; '.join(result.problems)}" if result.problems else ""
        rows.append(
            f"| {label}{note} | {result.size:,} | {result.rps:,.0f} | {result.p50_ms:.1f} | "
            f"{result.p95_ms:.1f} | {ratio:.2f} |"
        )
    engine = timings["engine"]
    rows += [
        "",
        "| Rules engine alone | µs per evaluation |",
        "|---|---:|",
        f"| SkinPen, complete example patients | {engine['skinpen_us']:.1f} |",
        f"| Synthetic set of 1,000 rules | {engine['synthetic_1000_us']:.1f} |",
    ]
    checks = _checks(results, timings, small=small, large=large)
    now = datetime.datetime.now(datetime.UTC)
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (bench/run.py); do not edit by hand. Re-run it to refresh.",
        "",
        f"Run on {now:%Y-%m-%d %H:%M} UTC, {timings['total_s'] / 60:.1f} minutes in all.",
        "",
        "## Machine",
        "",
        *(f"- {item}" for item in timings["machine"]),
        "",
        "## How it was measured",
        "",
        f"gunicorn with production settings (`gunicorn.conf.py`, DEBUG off, HTTPS settings on, "
        f"the database task backend) on loopback; wrk with {WRK_THREADS} threads and "
        f"{WRK_CONNECTIONS} connections, {seconds} s per scenario after a 2 s warm-up, from a "
        "separate process on the same machine. The database is a throw-away PostgreSQL "
        f"database seeded with `bench/seed.py` to {small:,} submissions, then to "
        f"{large:,} (seeding took {timings['seed_small_s']:.0f} s and "
        f"{timings['seed_large_s']:.0f} s, then VACUUM ANALYZE {timings['vacuum_s']:.0f} s). "
        "The baseline is measured in the same run before each set; ratios divide by the "
        "baseline of the same size. The machine is shared, so absolute figures drift between "
        "runs; the ratios much less.",
        "",
        "## Results",
        "",
        *rows,
        "",
        "## Targets",
        "",
        "| Target | Measured | Met |",
        "|---|---|---|",
        *checks,
        "",
    ]
    notes = ROOT / "bench" / "notes.md"
    if notes.exists():
        lines += [notes.read_text(encoding="utf-8").rstrip(), ""]
    return "\n".join(lines)


def _checks(results: list[Result], timings: dict[str, Any], *, small: int, large: int) -> list[str]:
    by = {(r.name, r.size): r for r in results}
    base = by[("baseline", small)]
    checks = []

    def line(target: str, measured: str, met: bool, miss: str = "") -> None:
        checks.append(f"| {target} | {measured} | {'yes' if met else 'no — ' + miss} |")

    for name, minimum in TARGETS.items():
        ratio = by[(name, small)].rps / base.rps
        line(
            f"{name.replace('_', ' ')}: at least {minimum:.0%} of the baseline's requests/s",
            f"{ratio:.0%}",
            ratio >= minimum,
            f"short by {minimum - ratio:.0%} of the baseline",
        )
    for name in ("queue", "queue_unreviewed_week"):
        growth = by[(name, large)].p50_ms / by[(name, small)].p50_ms
        line(
            f"{name.replace('_', ' ')}: p50 at {large:,} at most 1.5× p50 at {small:,}",
            f"{growth:.2f}×",
            growth <= 1.5,
            f"{growth / 1.5 - 1:.0%} over",
        )
    engine = timings["engine"]
    line(
        "Rules engine: at most 50 µs per SkinPen evaluation",
        f"{engine['skinpen_us']:.1f} µs",
        engine["skinpen_us"] <= 50,
        f"{engine['skinpen_us'] / 50 - 1:.0%} over",
    )
    line(
        "Rules engine: at most 1 ms per evaluation of 1,000 rules",
        f"{engine['synthetic_1000_us'] / 1000:.2f} ms",
        engine["synthetic_1000_us"] <= 1000,
        f"{engine['synthetic_1000_us'] / 1000 - 1:.0%} over",
    )
    rss = timings["worker_rss_mb"]
    line(
        "Memory: each gunicorn worker under 150 MB resident after the run",
        ", ".join(f"{size:.0f} MB" for size in rss),
        bool(rss) and max(rss) < 150,
        f"{max(rss or [0]) - 150:.0f} MB over",
    )
    total = timings["total_s"] / 60
    line("The whole `make bench` under 20 minutes", f"{total:.1f} min", total < 20, "too slow")
    return checks


def _machine(timings: dict[str, Any]) -> list[str]:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = match.group(1).strip() if match else cpu
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text())
        memory = f"{int(match.group(1)) / 1024 / 1024:.0f} GB RAM" if match else ""
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    wrk_version = (wrk.stdout + wrk.stderr).split("\n")[0].strip()
    import django

    flags = str(sysconfig.get_config_var("CONFIG_ARGS") or "")
    build = "optimised build" if "--enable-optimizations" in flags else "built without PGO/LTO"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return [
        f"{cpu}, {os.cpu_count()} CPUs, {memory}; load average {load:.1f} at the end of the run "
        "(the machine is shared)",
        f"{platform.platform()}",
        f"Python {platform.python_version()} ({platform.python_implementation()}, {build}), "
        f"Django {django.get_version()}",
        f"PostgreSQL {timings['postgres']} on the same machine",
        f"gunicorn {os.environ.get('WEB_CONCURRENCY', '2')} workers × "
        f"{os.environ.get('GUNICORN_THREADS', '2')} threads; {wrk_version}",
    ]


if __name__ == "__main__":
    main()
