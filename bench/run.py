"""`make bench`: the app under gunicorn with production settings, beside a stock Django peer.

Creates two throw-away databases next to the one in DATABASE_URL (PostgreSQL): the app's, which
it seeds with synthetic submissions, and the peer's (bench/peer/: what `django-admin
startproject` gives plus one small app), which gets as many rows for its admin changelist. It
starts both under gunicorn with the same settings on free loopback ports and loads them with
wrk, each of the app's pages right after the peer page it is compared with; then it seeds both
up to the large size and measures the review pages and the changelist again. Prints one table
and writes it to docs/benchmarks.md; stops the servers and drops the databases whatever
happens.
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
WARM_UP_SECONDS = 2
# wrk's connections, shared evenly by the servers' workers (WEB_CONCURRENCY, as gunicorn.conf.py).
WORKER_CONNECTIONS = max(1, WRK_CONNECTIONS // int(os.environ.get("WEB_CONCURRENCY", "2")))
# The final submit once more, one request at a time: its mean is the server's time per submit.
SERIAL_SUBMIT_SECONDS = 5


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
    # Rows on the page, for the review queue and the changelist (their cost grows with them).
    rows: int | None = None
    # CPU time the server's processes spent per request (its workers, not PostgreSQL). Unlike
    # requests/s, it hardly moves with what else the machine is doing.
    cpu_ms: float | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    status: int  # expected
    count: int  # distinct requests prepared (the submit works out its own)
    # The peer scenario this one is compared with; None for the peer's own.
    peer: str | None = None


PEERS = [
    Scenario("peer_one_query", "Peer: one-query view, Django's default middleware", 200, 1),
    Scenario("peer_form", "Peer: naive 30-field form, empty (GET)", 200, 1),
    Scenario("peer_changelist", "Peer: stock admin changelist, 7 columns", 200, 1),
]
SCENARIOS = [
    Scenario("healthz", "/healthz (one query)", 200, 1, "peer_one_query"),
    Scenario("start_page", "Start page GET / (no cookie)", 200, 1, "peer_one_query"),
    Scenario("resume", "Resume a draft (continue-later link)", 302, 64, "peer_one_query"),
    Scenario("step_get", "Intake step GET (heaviest step)", 200, 64, "peer_form"),
    Scenario("step_post", "Intake step POST (heaviest step)", 302, 64, "peer_form"),
    Scenario("submit", "Final submit POST (new submission each)", 302, 0, "peer_form"),
    Scenario("queue", "Review queue, default order", 200, 1, "peer_changelist"),
    Scenario(
        "queue_unreviewed_week", "Review queue, unreviewed, next 7 days", 200, 1, "peer_changelist"
    ),
    Scenario(
        "queue_search",
        "Review queue, search by reference (no dash, lower case)",
        200,
        64,
        "peer_changelist",
    ),
    Scenario(
        "queue_search_name",
        "Review queue, search by a name's start (first name, surname's first letters)",
        200,
        64,
        "peer_changelist",
    ),
    Scenario("submission_page", "Submission page (most flags)", 200, 1, "peer_changelist"),
]
LARGE_SCENARIOS = (
    "peer_changelist",
    "queue",
    "queue_unreviewed_week",
    "queue_search",
    "queue_search_name",
    "submission_page",
)
# The review pages whose p50 may grow at most 1.5× from the small size to the large.
SCALING = ("queue", "queue_unreviewed_week", "queue_search", "queue_search_name")
BY_NAME = {scenario.name: scenario for scenario in PEERS + SCENARIOS}


def in_order(names: set[str] | None = None) -> list[Scenario]:
    """Each peer scenario followed by the app's scenarios compared with it."""
    ordered = []
    for peer in PEERS:
        ordered += [peer, *(scenario for scenario in SCENARIOS if scenario.peer == peer.name)]
    return [scenario for scenario in ordered if names is None or scenario.name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=8, help="Measured seconds per scenario")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument(
        "--only",
        metavar="SCENARIO,…",
        help="While working on a page: measure only these scenarios (and the peer pages they "
        "are compared with) at the small size, print each one's figures and write no report",
    )
    parser.add_argument(
        "--at-large",
        action="store_true",
        help="With --only: then seed up to --large and measure again those of the scenarios "
        "that the whole run measures at that size",
    )
    parser.add_argument(
        "--checkout",
        type=Path,
        default=ROOT,
        help="With --only: serve the app from another checkout of the project (an earlier "
        "commit, say), measured with this checkout's harness and peer",
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
    bench = Bench(server_url, seconds=args.seconds, checkout=args.checkout.resolve())
    try:
        if only is not None:
            bench.run_only(args.small, only, large=args.large if args.at_large else None)
            return
        results, timings = bench.run(args.small, args.large)
    except BaseException:
        # The servers' own lines say why a request failed; the logs go with the clean-up.
        for log in sorted(bench.work.glob("*.log")):
            lines = log.read_text(errors="replace").splitlines(True)[-40:]
            print(f"--- {log.name}\n" + "".join(lines), file=sys.stderr)
        raise
    finally:
        bench.clean_up()
    timings["total_s"] = time.monotonic() - started
    timings["machine"] = _machine(timings)
    sizes = {"small": args.small, "large": args.large, "seconds": args.seconds}
    saved = {"results": [vars(result) for result in results], "timings": timings, "sizes": sizes}
    figures.write_text(json.dumps(saved, indent=1) + "\n", encoding="utf-8")
    write(args.output, render(results, timings, **sizes))


def _only(names: str) -> set[str]:
    chosen = {name.strip() for name in names.split(",") if name.strip()}
    unknown = sorted(chosen - set(BY_NAME))
    if unknown:
        known = ", ".join(scenario.name for scenario in in_order())
        raise SystemExit(f"Unknown scenario {', '.join(unknown)}; choose from {known}.")
    return chosen | {BY_NAME[name].peer or name for name in chosen}


def write(output: Path, report: str) -> None:
    print(report)
    output.write_text(report, encoding="utf-8")
    print(f"\nWritten to {output}")


class Bench:
    def __init__(self, server_url: str, *, seconds: int, checkout: Path = ROOT) -> None:
        # Where the app under test comes from: this checkout, or another one to compare with.
        self.checkout = checkout
        parts = urlsplit(server_url)
        self.database = f"{unquote(parts.path.lstrip('/'))}_bench_{os.getpid()}"
        self.peer_database = f"{self.database}_peer"
        self.admin_url = server_url
        self.url = urlunsplit(parts._replace(path="/" + self.database))
        self.peer_url = urlunsplit(parts._replace(path="/" + self.peer_database))
        self.seconds = seconds
        self.port, self.peer_port = _free_ports(2)
        self.work = Path(tempfile.mkdtemp(prefix="intake-bench-"))
        self.servers: dict[str, subprocess.Popen[bytes]] = {}
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
            "RATE_LIMIT_EMAILS_PER_HOUR": "0",
        }
        self.peer_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.peer.settings",
            "DATABASE_URL": self.peer_url,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "GUNICORN_BIND": f"127.0.0.1:{self.peer_port}",
            "LOG_LEVEL": "WARNING",
        }
        self.created: list[str] = []
        self.peer_rows = 0
        self.serial_submit: dict[str, Any] = {}

    # Set-up and tear-down

    def _sql(self, statement: str, url: str | None = None, params: tuple[Any, ...] = ()) -> str:
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
                cursor.execute(statement, params or None)
                row = cursor.fetchone() if cursor.description else None
        finally:
            connection.close()
        return "" if row is None else str(row[0])

    def _maintenance(self) -> str:
        return urlunsplit(urlsplit(self.admin_url)._replace(path="/postgres"))

    def manage(self, *args: str) -> None:
        subprocess.run([PYTHON, "manage.py", *args], cwd=self.checkout, env=self.env, check=True)

    def peer_manage(self, *args: str) -> None:
        subprocess.run([PYTHON, "-m", "django", *args], cwd=ROOT, env=self.peer_env, check=True)

    def set_up(self) -> None:
        """Both databases, migrated; SkinPen published in the app's."""
        for database in (self.database, self.peer_database):
            self._sql(f'CREATE DATABASE "{database}"')
            self.created.append(database)
        self.manage("migrate", "--noinput", "-v0")
        self.manage("collectstatic", "--noinput", "-v0")
        self.manage("load_question_set", "intake/question_sets/skinpen.json", "--publish")
        self.peer_manage("migrate", "--noinput", "-v0")

    def run(self, small: int, large: int) -> tuple[list[Result], dict[str, Any]]:
        timings: dict[str, Any] = {}
        self.set_up()
        timings["seed_small_s"] = self.seed(small)
        timings["peer_seed_small_s"] = self.seed_peer(small)
        self.start_servers()
        timings["engine"] = rules_timing.measure()
        results = [self.measure(scenario, small) for scenario in in_order()]
        timings["submit_serial"] = self.serial_submit
        timings["seed_large_s"] = self.seed(large - small)
        timings["peer_seed_large_s"] = self.seed_peer(large - small)
        began = time.monotonic()
        self._sql("VACUUM ANALYZE", self.url)
        self._sql("VACUUM ANALYZE", self.peer_url)
        timings["vacuum_s"] = time.monotonic() - began
        results += [self.measure(scenario, large) for scenario in in_order(set(LARGE_SCENARIOS))]
        timings["worker_rss_mb"] = self.worker_rss_mb()
        timings["postgres"] = self._sql("SHOW server_version")
        return results, timings

    def run_only(self, small: int, names: set[str], *, large: int | None = None) -> None:
        """A quick look at a few scenarios while working on them; nothing is written.

        With `large`, those of them measured at the large size are measured there too."""
        self.set_up()
        self.seed(small)
        self.seed_peer(small)
        self.start_servers()
        results = [self.measure(scenario, small) for scenario in in_order(names)]
        self.print_only(results, small)
        if large is not None:
            self.seed(large - small)
            self.seed_peer(large - small)
            self._sql("VACUUM ANALYZE", self.url)
            self._sql("VACUUM ANALYZE", self.peer_url)
            at_large = in_order(names & set(LARGE_SCENARIOS))
            large_results = [self.measure(scenario, large) for scenario in at_large]
            self.print_only(large_results, large)
            by_name = {result.name: result for result in results}
            for result in large_results:
                if result.name in SCALING and by_name[result.name].p50_ms:
                    growth = result.p50_ms / by_name[result.name].p50_ms
                    print(f"  {result.name}: p50 at {large:,} is {growth:.2f}× p50 at {small:,}")

    def print_only(self, results: list[Result], size: int) -> None:
        peers = {result.name: result for result in results}
        print(f"\nAt {size:,} submissions (requests/s, p50, and requests/s ÷ the peer's):")
        for result in results:
            peer_name = BY_NAME[result.name].peer
            ratio = ""
            if peer_name is not None:
                peer = peers[peer_name]
                ratio = f", {result.rps / peer.rps:.2f}× {peer_name}" if peer.rps else ""
            problems = f"  ⚠ {'; '.join(result.problems)}" if result.problems else ""
            cpu = f"  {result.cpu_ms:6.2f} ms CPU" if result.cpu_ms is not None else ""
            print(
                f"  {result.name:22} {result.rps:8,.0f} req/s  p50 {result.p50_ms:7.1f} ms"
                f"{cpu}{ratio}{problems}"
            )
        if self.serial_submit and self.checkout == ROOT:
            share = _rules_share(rules_timing.measure(), self.serial_submit)
            print(
                f"  submit, 1 connection: mean {self.serial_submit['mean_ms']:.1f} ms; "
                f"rules engine share {share:.1%}"
            )

    def seed(self, count: int) -> float:
        began = time.monotonic()
        # The database was made by this run: seed.py may skip the per-row foreign-key checks.
        command = ["bench/seed.py", "--count", str(count), "--own-database"]
        if not (self.checkout / "bench" / "seed.py").exists():
            # A checkout from before the seeding moved out of the app.
            command = ["manage.py", "seed_submissions", "--count", str(count)]
        subprocess.run([PYTHON, *command], cwd=self.checkout, env=self.env, check=True)
        return time.monotonic() - began

    def seed_peer(self, count: int) -> float:
        """As many rows for the peer's changelist, in one statement."""
        began = time.monotonic()
        first, self.peer_rows = self.peer_rows + 1, self.peer_rows + count
        self._sql(
            "INSERT INTO peer_submission "
            "(name, email, submitted_at, treatment_date, outcome, status, reviewer) "
            "SELECT 'Patient ' || n, 'patient' || n || '@example.com', "
            "now() - mod(n, 730) * interval '1 day' - mod(n, 86400) * interval '1 second', "
            "CASE WHEN mod(n, 8) = 0 THEN NULL ELSE current_date + mod(n, 60)::int END, "
            "(ARRAY['none', 'manageable', 'need_to_know', 'not_possible'])[mod(n, 4) + 1], "
            "(ARRAY['new', 'in_review', 'cleared', 'deferred'])[mod(n, 4) + 1], "
            "CASE WHEN mod(n, 3) = 0 THEN '' ELSE 'Reviewer ' || mod(n, 5) END "
            "FROM generate_series(%s, %s) AS n",
            self.peer_url,
            (first, self.peer_rows),
        )
        return time.monotonic() - began

    def start_servers(self) -> None:
        """The app and the peer under the same gunicorn settings, each on its own port."""
        self.start_server("app", "clinic.wsgi", self.env, f"{self.port}/healthz", self.checkout)
        self.start_server(
            "peer", "bench.peer.wsgi", self.peer_env, f"{self.peer_port}/one-query/", ROOT
        )
        # The peer's requests: the admin's needs a signed-in superuser's session.
        subprocess.run(
            [PYTHON, "bench/prepare_peer.py", str(self.work)],
            cwd=ROOT,
            env=self.peer_env,
            check=True,
        )

    def start_server(self, name: str, app: str, env: dict[str, str], probe: str, cwd: Path) -> None:
        log = open(self.work / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the server
        self.servers[name] = subprocess.Popen(
            [
                str(Path(PYTHON).with_name("gunicorn")),
                app,
                "-c",
                "gunicorn.conf.py",
                # Two servers at once: each its own control socket, rather than the shared default.
                "--control-socket",
                str(self.work / f"{name}.ctl"),
                # wrk opens its few connections at once, and the kernel sometimes hands them all
                # to one worker, which halves the figure; each worker takes its share instead.
                "--worker-connections",
                str(WORKER_CONNECTIONS),
            ],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{probe}", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn ({name}) did not start; see {self.work / name}.log")

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each of the app's gunicorn workers, in MB."""
        pid = self.servers["app"].pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        sizes = []
        for child in children.split():
            status = Path(f"/proc/{child}/status").read_text()
            match = re.search(r"VmRSS:\s+(\d+) kB", status)
            if match:
                sizes.append(int(match.group(1)) / 1024)
        return sizes

    def clean_up(self) -> None:
        for server in self.servers.values():
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
        for server in self.servers.values():
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        try:
            for database in self.created:
                self._sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            for path in sorted(self.work.glob("*")):
                path.unlink()
            self.work.rmdir()

    # Measuring

    def measure(self, scenario: Scenario, size: int) -> Result:
        name = scenario.name
        port = self.port if scenario.peer is not None else self.peer_port
        requests = self.work / f"{name}.tsv"
        problems: list[str] = []
        if name == "submit":
            figures = self.measure_submit(problems)
        else:
            if scenario.peer is not None:  # the peer's requests were written at start-up
                self.prepare(name, scenario.count)
            self.wrk(port, requests, scenario.status, seconds=WARM_UP_SECONDS)  # not counted
            figures = self.wrk(port, requests, scenario.status, seconds=self.seconds)
        problems[:0] = _problems(figures, scenario.status)
        listing = name.startswith("queue") or name == "peer_changelist"
        result = Result(
            name=name,
            label=scenario.label,
            size=size,
            rps=figures["rps"],
            p50_ms=figures["p50_ms"],
            p95_ms=figures["p95_ms"],
            requests=figures["requests"],
            problems=problems,
            rows=self.rows_listed(port, requests) if listing else None,
            cpu_ms=figures.get("cpu_ms"),
        )
        cpu = f", {result.cpu_ms:.2f} ms CPU per request" if result.cpu_ms is not None else ""
        print(
            f"{scenario.label} at {size:,}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} ms"
            f"{cpu}",
            flush=True,
        )
        return result

    def prepare(self, name: str, count: int) -> Path:
        """The app's requests for one scenario, with the drafts and logins they use."""
        path = self.work / f"{name}.tsv"
        if name in _NO_PREPARATION:
            method, target = _NO_PREPARATION[name]
            path.write_text(f"{method}\t{target}\t\t\n", encoding="utf-8")
            return path
        subprocess.run(
            [PYTHON, "bench/prepare.py", str(self.work), name, str(max(count, 1))],
            cwd=self.checkout,
            env=self.env,
            check=True,
        )
        return path

    def measure_submit(self, problems: list[str]) -> dict[str, Any]:
        """The final submit, a new submission each time: under load, then one at a time.

        Each run gets drafts of its own (the warm-up too), so no submit repeats an earlier one:
        a repeat would only be redirected to the confirmation, much faster than a submit.
        """
        rate = self.calibrate_submit()
        warm_up = self.submit_drafts(int(rate * WARM_UP_SECONDS * 1.5) + 100, "submit-warm-up")
        measured = self.submit_drafts(int(rate * self.seconds * 1.5) + 100, "submit")
        self.wrk(self.port, warm_up, 302, seconds=WARM_UP_SECONDS)
        figures = self.wrk_submits(measured, problems, seconds=self.seconds)
        # One connection and one thread: no queueing, so wrk's mean latency is the server's
        # time per submit (and loopback's, a few tens of µs).
        serial = self.submit_drafts(
            int(figures["rps"] * SERIAL_SUBMIT_SECONDS * 1.5) + 100, "submit-serial"
        )
        serial_problems: list[str] = []
        one = self.wrk_submits(
            serial, serial_problems, seconds=SERIAL_SUBMIT_SECONDS, threads=1, connections=1
        )
        self.serial_submit = {
            "mean_ms": one["mean_ms"],
            "p50_ms": one["p50_ms"],
            "requests": one["requests"],
            "seconds": SERIAL_SUBMIT_SECONDS,
            "problems": _problems(one, 302) + serial_problems,
        }
        return figures

    def submit_drafts(self, count: int, name: str) -> Path:
        """`count` fresh drafts at the check step, their submits in NAME.tsv."""
        path = self.work / f"{name}.tsv"
        self.prepare("submit", count).rename(path)
        return path

    def wrk_submits(
        self, requests: Path, problems: list[str], *, seconds: int, **load: int
    ) -> dict[str, Any]:
        """Run the submits in `requests`, checking that each stored a new submission."""
        before = self.submission_count()
        figures = self.wrk(self.port, requests, 302, seconds=seconds, **load)
        made = self.submission_count() - before
        if figures["sent"] > figures["distinct"]:
            problems.append("ran out of fresh drafts; some submits were repeats")
        if made < figures["requests"]:
            problems.append(f"{figures['requests']} submits stored {made} submissions")
        return figures

    def rows_listed(self, port: int, requests: Path) -> int:
        """How many rows the page lists (one selection box per row)."""
        method, path, cookie, _ = requests.read_text(encoding="utf-8").split("\n")[0].split("\t")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}",
            method=method,
            headers={"Cookie": cookie, "X-Forwarded-Proto": "https"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
            page: str = response.read().decode()
        return page.count('name="_selected_action"')

    def calibrate_submit(self) -> float:
        """A rough submits-per-second figure, so that enough drafts are prepared."""
        requests = self.prepare("submit", 300)
        figures = self.wrk(self.port, requests, 302, seconds=1)
        return float(max(figures["requests"], 100))

    def wrk(
        self,
        port: int,
        requests: Path,
        status: int,
        *,
        seconds: int,
        threads: int = WRK_THREADS,
        connections: int = WRK_CONNECTIONS,
    ) -> dict[str, Any]:
        server = "app" if port == self.port else "peer"
        cpu_before = self.server_cpu(server)
        output = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(ROOT / "bench" / "wrk.lua"),
                f"http://127.0.0.1:{port}",
                "--",
                str(requests),
                f"https://127.0.0.1:{port}",
                str(threads),
                str(status),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        cpu = self.server_cpu(server) - cpu_before
        line = next(line for line in output.splitlines() if line.startswith("{"))
        figures: dict[str, Any] = json.loads(line)
        figures["cpu_ms"] = cpu * 1000 / figures["requests"] if figures["requests"] else None
        return figures

    def server_cpu(self, name: str) -> float:
        """Seconds of CPU a server's processes have used so far: the master, its live workers,
        and the workers it has already replaced (their time is added to the master's when it
        reaps them), so that `max_requests` restarts lose nothing."""
        master = self.servers[name].pid
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return _cpu_seconds(master, reaped=True) + sum(_cpu_seconds(int(c)) for c in children)

    def submission_count(self) -> int:
        return int(self._sql("SELECT count(*) FROM intake_submission", self.url))


# Requests sent as they are, with nothing to prepare in the app's database.
_NO_PREPARATION = {"healthz": ("GET", "/healthz"), "start_page": ("GET", "/")}


def _cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """User and system CPU of a process (and, with `reaped`, of its children it has reaped)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:  # a worker that ended just now; the master counts it once reaped
        return 0.0
    # utime, stime, cutime, cstime: fields 14 to 17 of proc(5), 12 to 15 after the name.
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def _problems(figures: dict[str, Any], status: int) -> list[str]:
    problems = []
    if figures["unexpected_status"]:
        problems.append(f"{figures['unexpected_status']} responses were not {status}")
    if figures["socket_errors"]:
        problems.append(f"{figures['socket_errors']} socket errors")
    return problems


def _free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports (held together while they are chosen)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def _rules_share(engine: dict[str, float], serial_submit: dict[str, Any]) -> float:
    """µs per SkinPen evaluation ÷ the final submit's mean server time."""
    mean_us = serial_submit["mean_ms"] * 1000
    return engine["skinpen_us"] / mean_us if mean_us else float("inf")


# The report

# Minimum requests/s of the app's page ÷ its peer's, at the small size.
PEER_TARGETS = {
    "healthz": (0.5, "/healthz: at least 50% of the peer one-query view's requests/s"),
    "step_get": (5.0, "Heaviest step GET: at least 5× the naive form's requests/s"),
    "queue": (1.5, "Review queue, default order: at least 1.5× the stock changelist's requests/s"),
}
RULES_SHARE = 0.05


def render(
    results: list[Result], timings: dict[str, Any], *, small: int, large: int, seconds: int
) -> str:
    """docs/benchmarks.md: the machine, the table, and each target met or missed."""
    peers = {(r.name, r.size): r for r in results if r.name not in _COMPARED}
    rows = [
        "| Scenario | Submissions | Requests/s | p50 ms | p95 ms | CPU ms per request "
        "| Requests/s ÷ the peer's |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        label = result.label
        if result.rows is not None:
            label += f" ({result.rows} rows listed)"
        peer = peers.get((_COMPARED.get(result.name, ""), result.size))
        if result.name not in _COMPARED:
            label, ratio = f"**{label}**", "peer"
        elif peer is not None and peer.rps:
            ratio = f"{result.rps / peer.rps:.2f}"
        else:
            ratio = "—"
        note = f" ⚠ {'; '.join(result.problems)}" if result.problems else ""
        cpu = f"{result.cpu_ms:.2f}" if result.cpu_ms is not None else "—"
        rows.append(
            f"| {label}{note} | {result.size:,} | {result.rps:,.0f} | {result.p50_ms:.1f} | "
            f"{result.p95_ms:.1f} | {cpu} | {ratio} |"
        )
    engine, serial = timings["engine"], timings["submit_serial"]
    serial_note = f" ⚠ {'; '.join(serial['problems'])}" if serial["problems"] else ""
    rows += [
        "",
        "| Rules engine within the final submit | |",
        "|---|---:|",
        f"| µs per SkinPen evaluation (complete example patients) | {engine['skinpen_us']:.1f} |",
        f"| Final submit's mean server time, one request at a time ({serial['requests']:,} "
        f"submits in {serial['seconds']} s){serial_note} | {serial['mean_ms']:.2f} ms |",
        f"| Share of the submit spent evaluating the rules | {_rules_share(engine, serial):.1%} |",
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
        "The app under gunicorn with production settings (`gunicorn.conf.py`, DEBUG off, HTTPS "
        "settings on, the database task backend) on loopback and, beside it under the same "
        "gunicorn settings, the peer: a stock Django project (`bench/peer/`: what "
        "`django-admin startproject` gives, DEBUG off, Django's default middleware and apps, "
        "plus one small app with a one-query view, a naive 30-field form and a 7-column model "
        "in the stock admin), each with its own throw-away PostgreSQL database on the same "
        f"server. wrk with {WRK_THREADS} threads and {WRK_CONNECTIONS} connections ("
        f"each gunicorn worker takes at most {WORKER_CONNECTIONS} of them, so that they are "
        "shared evenly; left to the kernel, all of them sometimes went to one worker, which "
        f"halved the figure), {seconds} s "
        f"per scenario after a {WARM_UP_SECONDS} s warm-up, from a separate process on the "
        "same machine. Each of the app's pages is measured right after the peer page it is "
        "compared with (the bold row above it), and its ratio divides its requests/s by that "
        "page's, at the same size: /healthz, the start page and resuming a draft by the "
        "one-query view; the intake step and the submit by the naive form; the review pages by "
        "the changelist. CPU per request is the user and system time of the server's gunicorn "
        "processes during the run (workers replaced meanwhile included), divided by the "
        "requests served: PostgreSQL's share is not in it. It moves much less than requests/s "
        "with whatever else the machine is doing. The app's database is seeded with "
        "`bench/seed.py` to "
        f"{small:,} submissions, then to {large:,} (seeding took "
        f"{timings['seed_small_s']:.0f} s and {timings['seed_large_s']:.0f} s), the peer's with "
        "as many rows by one `INSERT … SELECT … generate_series` "
        f"({timings['peer_seed_small_s']:.1f} s and {timings['peer_seed_large_s']:.1f} s); then "
        f"VACUUM ANALYZE on both ({timings['vacuum_s']:.0f} s). The final submit is also "
        f"measured at 1 connection and 1 thread for {serial['seconds']} s, with drafts of its "
        "own, for its mean server time. The machine is shared, so absolute figures drift "
        "between runs; the ratios much less.",
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


# Each of the app's scenarios and the peer scenario it is divided by.
_COMPARED = {scenario.name: scenario.peer for scenario in SCENARIOS if scenario.peer}


def _checks(results: list[Result], timings: dict[str, Any], *, small: int, large: int) -> list[str]:
    by = {(r.name, r.size): r for r in results}
    checks = []

    def line(target: str, measured: str, met: bool, miss: str = "") -> None:
        checks.append(f"| {target} | {measured} | {'yes' if met else 'no — ' + miss} |")

    for name, (minimum, target) in PEER_TARGETS.items():
        result, peer = by[(name, small)], by[(_COMPARED[name], small)]
        ratio = result.rps / peer.rps
        shown = f"{ratio:.0%}" if minimum < 1 else f"{ratio:.2f}×"
        line(
            f"{target} ({small:,} submissions)",
            f"{shown} ({result.rps:,.0f} ÷ {peer.rps:,.0f} req/s)",
            ratio >= minimum,
            f"{1 - ratio / minimum:.0%} short",
        )
    start, step = by[("start_page", small)], by[("step_get", small)]
    line(
        "Start page: at least the heaviest step GET's requests/s",
        f"{start.rps:,.0f} vs {step.rps:,.0f} req/s ({start.rps / step.rps:.0%})",
        start.rps >= step.rps,
        f"{1 - start.rps / step.rps:.0%} short",
    )
    for name in SCALING:
        if (name, large) not in by or (name, small) not in by:  # a run from before the scenario
            continue
        growth = by[(name, large)].p50_ms / by[(name, small)].p50_ms
        line(
            f"{name.replace('_', ' ')}: p50 at {large:,} at most 1.5× p50 at {small:,}",
            f"{growth:.2f}×",
            growth <= 1.5,
            f"{growth / 1.5 - 1:.0%} over",
        )
    engine, serial = timings["engine"], timings["submit_serial"]
    share = _rules_share(engine, serial)
    line(
        f"Rules engine: µs per SkinPen evaluation at most {RULES_SHARE:.0%} of the final "
        "submit's mean server time",
        f"{share:.1%} ({engine['skinpen_us']:.1f} µs of {serial['mean_ms']:.2f} ms)",
        share <= RULES_SHARE,
        f"{share / RULES_SHARE - 1:.0%} over",
    )
    rss = timings["worker_rss_mb"]
    line(
        "Memory: each of the app's gunicorn workers under 150 MB resident after the run",
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
