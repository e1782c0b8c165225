"""Concurrent users: browser sessions walking every page of ONE `streamlit run serve.py`, while the inbox
imports a file and monitoring runs.

A private copy of the reduced demo store (seeded here, or `--store`) is served as `make run` serves it,
with `MODELPULSE_TIMING_LOG` on, so each script run appends its server-side seconds (`ui/timing.py`).
One headless Chromium (Debian's; never `playwright install`) opens one browser context per session;
each session loads the root page, then moves through every page with the sidebar links, as a person
would, until its time is up (and at least once round all pages). A visit's browser time runs from the
click to the page drawn: the app idle (`stApp` script state `notRunning`, no skeleton) with the page's
heading shown, measured with the page's own clock. After each visit the DOM is checked for Streamlit
exception blocks and "Traceback"; the server's log is checked at the end.

After a warm-up round, phase 1 is one session alone for `--alone` seconds; in phase 2 `--sessions`
contexts arrive over `--ramp` seconds (each loading the root), then all walk for `--seconds` seconds
(they start together, so the walk opens with one rerun per session at once), with a CSV of new churn
rows dropped into the inbox a quarter of the way in (its import reruns churn's monitoring) and hotel's
monitoring scheduled every minute (both phases). After the server stops, the store is read back: the
rows must be there. `--pin` keeps the server on CPU 0 and the browser side on CPU 1.

    .venv/bin/python bench/load.py [--store DIR] [--sessions 20] [--seconds 60] [--alone 60] [--pin] [--json F]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DO_NOT_TRACK", "1")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1366, "height": 768}
INBOX_MODEL = "churn"
SCHEDULED_MODEL = "hotel"


@dataclass(frozen=True)
class Screen:
    """One page of the app: its URL path (as app.py defines it), its title, the heading it draws."""

    url: str
    title: str
    heading: str


SCREENS = (
    Screen("", "Overview", "Model health overview"),
    Screen("alerts", "Alerts", "Alerts"),
    Screen("health", "Model health", "Model health"),
    Screen("kpis", "Business KPIs", "Business KPIs"),
    Screen("compare", "Compare versions", "Compare versions"),
    Screen("report", "Board report", "Board report"),
    Screen("upload", "Bring your own data", "Bring your own data"),
    Screen("settings", "Settings", "Settings"),
    Screen("admin", "People and audit", "People and audit"),
)

# click the sidebar link whose path is /<url>; the page's clock at the click, or null when there is no such link
CLICK_JS = """(url) => {
  const want = '/' + url;
  const links = [...document.querySelectorAll('[data-testid="stSidebarNav"] a')];
  const link = links.find(a => new URL(a.href).pathname.replace(/\\/$/, '') === want.replace(/\\/$/, ''));
  if (!link) return null;
  const t = performance.now();
  link.click();
  return t;
}"""

# the page's clock once the app is idle with `heading` shown; false while not yet
DONE_JS = """(heading) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  const seen = [...document.querySelectorAll('h1, h2, h3')].some(h => h.textContent.trim() === heading);
  return seen ? performance.now() : false;
}"""

# what is wrong on the page now: exception blocks, a traceback, a lost connection
PROBLEMS_JS = """() => {
  const out = [];
  for (const e of document.querySelectorAll('[data-testid="stException"]')) {
    out.push('exception: ' + e.textContent.slice(0, 400));
  }
  const body = document.body ? document.body.textContent : '';
  const at = body.indexOf('Traceback');
  if (at >= 0) out.push('Traceback in the page: ' + body.slice(at, at + 400));
  const app = document.querySelector('[data-testid="stApp"]');
  const conn = app ? app.getAttribute('data-test-connection-state') : null;
  if (conn && conn !== 'CONNECTED') out.push('connection ' + conn);
  return out;
}"""


@dataclass
class Visit:
    """One page drawn in one session: how long the browser waited, and what was wrong."""

    session: int
    page: str
    seconds: float
    at: float
    problems: list[str]
    first: bool = False  # the session's first load (a URL typed in), not a sidebar move


@dataclass
class Phase:
    """What one phase saw: visits, errors, timings read back from the server."""

    name: str
    sessions: int
    seconds: float
    arrival: float = 0.0  # seconds from the first arrival to the last session's first page drawn
    started: float = 0.0  # the walk: from everyone in to the last visit
    ended: float = 0.0
    visits: list[Visit] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    js_errors: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)

    def walks(self) -> list[Visit]:
        """Sidebar visits only (first loads excluded)."""
        return [v for v in self.visits if not v.first]

    def pages_by_session(self) -> dict[int, set[str]]:
        """Which pages each session drew (first loads included)."""
        seen: dict[int, set[str]] = {i: set() for i in range(self.sessions)}
        for v in self.visits:
            seen[v.session].add(v.page)
        return seen

    def problems(self) -> list[str]:
        """Every exception block, traceback, lost connection, timeout and session failure."""
        out = [f"session {v.session} {v.page}: {p}" for v in self.visits for p in v.problems]
        return out + self.errors


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation; nan for no values."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


# ---------------------------------------------------------------------- the server


def serve(root: Path, *, timing_log: Path, poll: int = 3):
    """`streamlit run serve.py` (tests.browser.test_browser.Server) over the store in `root`, timing on."""
    from tests.browser.test_browser import Server

    return Server(root, root / "streamlit.log", MODELPULSE_TIMING_LOG=str(timing_log), MODELPULSE_INBOX_POLL=str(poll))


def copy_store(source: Path, root: Path) -> Path:
    """Copy a store folder (modelpulse.duckdb and models/) into `root`; returns `root`."""
    source = source.parent if source.is_file() else source
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "modelpulse.duckdb", root / "modelpulse.duckdb")
    shutil.copytree(source / "models", root / "models")
    return root


def schedule_every_minute(root: Path, model: str = SCHEDULED_MODEL) -> None:
    """Before the server starts: monitor `model` on a schedule firing every minute (the app's scheduler runs it)."""
    from core.store import Store

    with Store.open(root / "modelpulse.duckdb") as store:
        store.set_schedule(model=model, cron="* * * * *", by="bench/load.py")


def drop_batch(inbox: Path, rows: int = 300, *, name: str = "load-batch.csv") -> list[str]:
    """Write new churn production rows under a .tmp name, rename into `<inbox>/churn/`; returns their ids."""
    from tests.conftest import churn_batch

    folder = inbox / INBOX_MODEL
    folder.mkdir(parents=True, exist_ok=True)
    batch = churn_batch(rows)
    tmp = folder / f"{name}.tmp"
    batch.to_csv(tmp, index=False)
    tmp.rename(folder / name)
    return list(batch["customer_id"])


def wait_imported(inbox: Path, name: str, timeout: float = 120) -> Path | None:
    """The file in `done/` once the app has imported it (None if it did not within `timeout`)."""
    folder = inbox / INBOX_MODEL
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = list((folder / "done").glob(f"*{name}"))
        if done:
            return done[0]
        if list((folder / "failed").glob(f"*{name}")):
            return None
        time.sleep(0.5)
    return None


def log_problems(path: Path) -> list[str]:
    """Lines of the server's log (stdout and stderr) that tell of a failure."""
    bad = ("Traceback", "Exception", "ERROR", "Error:", "busy", "Uncaught")
    return [line.rstrip() for line in path.read_text(errors="replace").splitlines() if any(b in line for b in bad)]


def timing_lines(path: Path, start: float = 0.0, end: float = float("inf")) -> list[dict]:
    """Script runs logged by ui/timing.py that ended between `start` and `end` (wall clock)."""
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [x for x in lines if start <= x["at"] <= end]


# ---------------------------------------------------------------------- CPU and machine load


def _tree(pid: int) -> list:
    import psutil

    try:
        proc = psutil.Process(pid)
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(server_pid: int) -> dict[tuple[str, int], float]:
    """CPU seconds so far per (role, pid): the server, the browser (Playwright's driver, Chromium), this process."""
    server = {p.pid for p in _tree(server_pid)}
    out: dict[tuple[str, int], float] = {}
    for proc in _tree(os.getpid()):
        try:
            t = proc.cpu_times()
        except Exception:  # noqa: BLE001 - a renderer that just exited
            continue
        role = "server" if proc.pid in server else "bench" if proc.pid == os.getpid() else "browser"
        out[(role, proc.pid)] = t.user + t.system
    return out


def cpu_used(before: dict[tuple[str, int], float], after: dict[tuple[str, int], float]) -> dict[str, float]:
    """CPU seconds each role used between two `cpu_seconds` readings (processes started since count whole)."""
    used = {"server": 0.0, "browser": 0.0, "bench": 0.0}
    for key, seconds in after.items():
        used[key[0]] += seconds - before.get(key, 0.0)
    return used


class LoadLogger:
    """Every 10 s: the load average and every process outside this run above 20% CPU (the RESULTS.md note)."""

    def __init__(self, every: float = 10.0) -> None:
        self.every = every
        self.samples: list[tuple[float, tuple[float, float, float], list[str]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> LoadLogger:
        """Start sampling in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import psutil

        for p in psutil.process_iter():
            try:
                p.cpu_percent(None)
            except psutil.Error:
                pass
        while not self._stop.wait(self.every):
            ours = {p.pid for p in _tree(os.getpid())}
            busy = []
            for p in psutil.process_iter(["name", "cmdline"]):
                try:
                    use = p.cpu_percent(None)
                except psutil.Error:
                    continue
                if p.pid not in ours and use > 20:
                    cmd = " ".join(p.info.get("cmdline") or [p.info.get("name") or "?"])[:80]
                    busy.append(f"{use:.0f}% {cmd}")
            self.samples.append((time.time(), os.getloadavg(), busy))

    def others(self) -> list[str]:
        """Samples in which another process was above 20% CPU."""
        return [f"{time.strftime('%H:%M:%S', time.gmtime(t))}: {'; '.join(b)}" for t, _, b in self.samples if b]


def pin(server_pid: int) -> None:
    """Keep the server (every thread) on CPU 0 and this process, hence the browser it starts, on CPU 1."""
    import psutil

    for thread in psutil.Process(server_pid).threads():
        os.sched_setaffinity(thread.id, {0})
    os.sched_setaffinity(server_pid, {0})
    os.sched_setaffinity(0, {1})


# ---------------------------------------------------------------------- the browser side


async def _drawn(pg, screen: Screen, timeout: float) -> float:
    handle = await pg.wait_for_function(DONE_JS, arg=screen.heading, polling=50, timeout=timeout * 1000)
    return float(await handle.json_value())


async def _check(pg) -> list[str]:
    return list(await pg.evaluate(PROBLEMS_JS))


async def _arrive(browser, url: str, index: int, phase: Phase, timeout: float, delay: float):
    """One person arrives after `delay` s: a new browser context loads the root URL (the Overview).

    Returns (context, page), the page None when the first load failed (recorded in `phase.errors`)."""
    await asyncio.sleep(delay)
    context = await browser.new_context(viewport=VIEWPORT, reduced_motion="reduce")
    pg = await context.new_page()
    pg.on("pageerror", lambda exc: phase.js_errors.append(f"session {index}: {exc}"))
    try:
        t0 = time.perf_counter()
        await pg.goto(f"{url}/", timeout=timeout * 1000)
        await _drawn(pg, SCREENS[0], timeout)  # the first load also parses the app's JavaScript
        first = time.perf_counter() - t0
        phase.visits.append(Visit(index, SCREENS[0].title, first, time.time(), await _check(pg), first=True))
        return context, pg
    except Exception as exc:  # noqa: BLE001 - reported, never hidden
        phase.errors.append(f"session {index} first load: {type(exc).__name__}: {str(exc)[:300]}")
        return context, None


async def _walk(pg, index: int, phase: Phase, deadline: float, hard: float | None, timeout: float) -> None:
    """Move through the sidebar's pages in turn (each session starting at its own place) until `deadline`;
    with `hard` set, go on past `deadline` to the pages not yet drawn, but never past `hard`."""
    seen = {SCREENS[0].title}
    order = [SCREENS[(index + k) % len(SCREENS)] for k in range(len(SCREENS))]
    step, current = 0, SCREENS[0]
    try:
        while True:
            now, complete = time.time(), len(seen) == len(SCREENS)
            if now >= deadline and (hard is None or complete):
                break
            if hard is not None and now >= hard:
                missing = sorted({s.title for s in SCREENS} - seen)
                phase.errors.append(f"session {index}: out of time with {missing} not visited")
                break
            screen, step = order[step % len(order)], step + 1
            if screen == current:
                continue
            # past the deadline only the pages still missing are worth the time left (a page is reached
            # from another one, so when the one missing is the page shown, any other goes first)
            if now >= deadline and screen.title in seen and {s.title for s in SCREENS} - seen != {current.title}:
                continue
            current = screen
            clicked = await pg.evaluate(CLICK_JS, screen.url)
            if clicked is None:
                phase.errors.append(f"session {index}: no sidebar link to /{screen.url}")
                break
            try:
                done = await _drawn(pg, screen, timeout)
            except Exception as exc:  # noqa: BLE001 - a timeout is a finding, reported with the page's state
                why = f"not drawn in {timeout:.0f} s ({type(exc).__name__})"
                phase.errors.append(f"session {index} {screen.title}: {why}")
                phase.visits.append(Visit(index, screen.title, timeout, time.time(), await _check(pg)))
                continue
            phase.visits.append(Visit(index, screen.title, (done - clicked) / 1000, time.time(), await _check(pg)))
            seen.add(screen.title)
    except Exception as exc:  # noqa: BLE001 - reported, never hidden
        phase.errors.append(f"session {index}: {type(exc).__name__}: {str(exc)[:300]}")


async def run_phase(
    browsers: list,
    url: str,
    *,
    name: str,
    sessions: int,
    seconds: float,
    server_pid: int,
    during: Callable[[], None] | None = None,
    during_after: float = 0.0,
    timeout: float = 90.0,
    ramp: float = 0.0,
    full_round: float | None = None,
) -> Phase:
    """`sessions` people (contexts spread over `browsers`) arrive, session i `i * ramp / sessions` s in, each
    loading the root; once all are in, every one walks the pages for `seconds` (the phase's clock, CPU and
    server timings cover this walk), and `during()` runs once, `during_after` s into the walk. With
    `full_round` set, a session that has not drawn every page by then goes on, at most `full_round` s more."""
    phase = Phase(name, sessions, seconds)
    arrived = time.time()
    arrivals = [
        _arrive(browsers[i % len(browsers)], url, i, phase, 2 * timeout, i * ramp / sessions) for i in range(sessions)
    ]
    pairs = await asyncio.gather(*arrivals)
    phase.arrival = time.time() - arrived
    phase.started = time.time()
    cpu0 = cpu_seconds(server_pid)
    load0 = os.getloadavg()[0]
    deadline = phase.started + seconds
    hard = None if full_round is None else deadline + full_round

    async def side() -> None:
        await asyncio.sleep(during_after)
        await asyncio.to_thread(during)

    side_task = asyncio.create_task(side()) if during is not None else None
    await asyncio.gather(*[_walk(pg, i, phase, deadline, hard, timeout) for i, (_, pg) in enumerate(pairs) if pg])
    if side_task is not None:
        await side_task
    phase.ended = time.time()
    phase.cpu = cpu_used(cpu0, cpu_seconds(server_pid))
    phase.load = (load0, os.getloadavg()[0])
    for context, _ in pairs:
        await context.close()
    return phase


async def launch(playwright, count: int = 1) -> list:
    """`count` headless Debian Chromium browsers."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError("Debian's chromium is missing: run `make test` (it installs it with apt-get).")
    return [
        await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for _ in range(count)
    ]


# ---------------------------------------------------------------------- figures


def summarize(phase: Phase, timing_log: Path) -> dict:
    """The phase's figures: visits, reruns, browser and server p50/p95, CPU, problems."""
    runs = timing_lines(timing_log, phase.started, phase.ended + 1.0)
    server = [r["seconds"] for r in runs]
    browser = [v.seconds for v in phase.walks()]
    wall = phase.ended - phase.started
    return {
        "phase": phase.name,
        "sessions": phase.sessions,
        "wall_s": round(wall, 1),
        "visits": len(browser),
        "first_loads": len(phase.visits) - len(browser),
        "reruns": len(server),
        "rerun_ends": {e: sum(r["end"] == e for r in runs) for e in sorted({r["end"] for r in runs})},
        "server_sessions": len({r["session"] for r in runs}),
        "server_p50": pct(server, 0.5),
        "server_p95": pct(server, 0.95),
        "browser_p50": pct(browser, 0.5),
        "browser_p95": pct(browser, 0.95),
        "first_load_p50": pct([v.seconds for v in phase.visits if v.first], 0.5),
        "first_load_p95": pct([v.seconds for v in phase.visits if v.first], 0.95),
        "arrival_s": round(phase.arrival, 1),
        "server_share": sum(server) / sum(browser) if browser else float("nan"),
        "visits_per_s": len(browser) / wall if wall else float("nan"),
        "per_page": {
            s.title: {
                "visits": sum(v.page == s.title for v in phase.walks()),
                "browser_p50": pct([v.seconds for v in phase.walks() if v.page == s.title], 0.5),
                "server_p50": pct([r["seconds"] for r in runs if r["page"] == s.title], 0.5),
            }
            for s in SCREENS
        },
        "cpu_s": {k: round(v, 1) for k, v in phase.cpu.items()},
        "load_1min": phase.load,
        "problems": phase.problems(),
        "js_errors": phase.js_errors,
        "all_pages_every_session": all(len(p) == len(SCREENS) for p in phase.pages_by_session().values()),
    }


def report(alone: dict, many: dict, extra: dict) -> str:
    """The printed table: each phase, the 20-vs-1 ratio, the server's share."""

    def ms(x: float) -> str:
        return f"{x * 1000:,.0f} ms"

    def row(label: str, key: str, fmt=ms) -> str:
        a, m = alone[key], many[key]
        ratio = m / a if a else float("nan")
        return f"| {label} | {fmt(a)} | {fmt(m)} | {ratio:.1f}x |"

    n = many["sessions"]
    lines = [
        f"| measure | 1 session | {n} sessions | {n} vs 1 |",
        "|---|---|---|---|",
        f"| page visits (sidebar) | {alone['visits']} | {many['visits']} | |",
        f"| reruns served (timing log) | {alone['reruns']} | {many['reruns']} | |",
        f"| visits per second, all sessions | {alone['visits_per_s']:.2f} | {many['visits_per_s']:.2f} | "
        f"{many['visits_per_s'] / alone['visits_per_s']:.1f}x |",
        row("server time per rerun, p50", "server_p50"),
        row("server time per rerun, p95", "server_p95"),
        row("browser time per page visit, p50", "browser_p50"),
        row("browser time per page visit, p95", "browser_p95"),
        row("first load (URL to drawn, during arrival), p50", "first_load_p50"),
        row("first load (URL to drawn, during arrival), p95", "first_load_p95"),
        f"| arrival (first context opened to last first load) | {alone['arrival_s']} s | {many['arrival_s']} s | |",
        f"| walk length (all in to last visit) | {alone['wall_s']} s | {many['wall_s']} s | |",
        f"| server share of browser time (sum) | {alone['server_share']:.0%} | {many['server_share']:.0%} | |",
        f"| CPU s: server / browser / bench | {alone['cpu_s']['server']} / {alone['cpu_s']['browser']} / "
        f"{alone['cpu_s']['bench']} | {many['cpu_s']['server']} / {many['cpu_s']['browser']} / "
        f"{many['cpu_s']['bench']} | |",
        f"| errors (exceptions, tracebacks, timeouts) | {len(alone['problems'])} | {len(many['problems'])} | |",
        f"| every session drew every page | {alone['all_pages_every_session']} | {many['all_pages_every_session']} | |",
    ]
    lines.append("")
    lines.append("| page | visits (1 / N) | browser p50 (1 / N) | server p50 (1 / N) |")
    lines.append("|---|---|---|---|")
    for s in SCREENS:
        a, m = alone["per_page"][s.title], many["per_page"][s.title]
        lines.append(
            f"| {s.title} | {a['visits']} / {m['visits']} | {ms(a['browser_p50'])} / {ms(m['browser_p50'])} | "
            f"{ms(a['server_p50'])} / {ms(m['server_p50'])} |"
        )
    lines.append("")
    lines += [f"- {k}: {v}" for k, v in extra.items()]
    return "\n".join(lines)


# ---------------------------------------------------------------------- the run


async def bench(root: Path, args) -> tuple[dict, dict, dict]:
    """Serve `root`, warm up, run the two phases, stop, read the store back; returns (alone, many, extra)."""
    from playwright.async_api import async_playwright

    timing_log = root / "timing.jsonl"
    schedule_every_minute(root)
    t0, served_at = time.perf_counter(), datetime.now()
    server = serve(root, timing_log=timing_log, poll=args.poll)
    extra: dict = {"server start (s)": round(time.perf_counter() - t0, 1)}
    if args.pin:
        pin(server.proc.pid)
        extra["pinned"] = "server on CPU 0; this process, Playwright's driver and Chromium on CPU 1"
    ids: list[str] = []
    try:
        async with async_playwright() as p:
            browsers = await launch(p, args.browsers)
            pid = server.proc.pid
            warm = await run_phase(  # one round of every page first: imports, caches, the JS bundle
                browsers, server.url, name="warm-up", sessions=1, seconds=0, server_pid=pid, full_round=120
            )
            extra["warm-up problems"] = warm.problems() or "none"
            alone = await run_phase(browsers, server.url, name="alone", sessions=1, seconds=args.alone, server_pid=pid)
            dropped: list[float] = []

            def drop() -> None:
                ids.extend(drop_batch(root / "inbox", args.rows))
                dropped.append(time.time())

            many = await run_phase(
                browsers,
                server.url,
                name="many",
                sessions=args.sessions,
                seconds=args.seconds,
                server_pid=pid,
                during=drop,
                during_after=args.seconds / 4,
                ramp=args.ramp,
            )
            for b in browsers:
                await b.close()
        done = wait_imported(root / "inbox", "load-batch.csv")
        extra["inbox file dropped at (s into the walk)"] = round(dropped[0] - many.started, 1)
        extra["inbox file in done/"] = bool(done)
        if done:
            moved = datetime.strptime(done.name[:15], "%Y%m%d-%H%M%S").timestamp()  # inbox.py names it so
            extra["moved to done/ (s after the drop, to the second)"] = round(moved - dropped[0])
    finally:
        server.stop()
    a, m = summarize(alone, timing_log), summarize(many, timing_log)
    from core.store import Store

    with Store.open(root / "modelpulse.duckdb", read_only=True) as store:
        extra["inbox rows stored"] = f"{len(store.known_entities(model=INBOX_MODEL, ids=ids))} of {len(ids)}"
        runs = store.list_runs(limit=200)
        runs = runs[runs["started_at"] >= served_at]  # the runs of this server
        extra["scheduled runs"] = ", ".join(
            f"{r.job} {r.status} {(r.finished_at - r.started_at).total_seconds():.1f} s at {r.started_at:%H:%M:%S}"
            for r in runs.itertuples()
            if r.job.startswith("monitor:")
        )
    extra["server log problems"] = log_problems(root / "streamlit.log") or "none"
    return a, m, extra


def main() -> int:
    """Run the bench and print its figures (exit 1 when any error was seen)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, help="a store folder (modelpulse.duckdb + models/); copied first")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0, help="phase 2 walk (after all sessions are in)")
    parser.add_argument("--alone", type=float, default=60.0, help="phase 1 (one session) length")
    parser.add_argument("--ramp", type=float, default=10.0, help="phase 2 sessions arrive spread over this many s")
    parser.add_argument("--pin", action="store_true", help="server on CPU 0, the browser side on CPU 1")
    parser.add_argument("--browsers", type=int, default=1, help="Chromium processes the contexts are spread over")
    parser.add_argument("--rows", type=int, default=300, help="churn rows in the inbox file")
    parser.add_argument("--poll", type=int, default=3, help="MODELPULSE_INBOX_POLL")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--keep", type=Path, help="keep the served copy (and its logs) in this folder")
    args = parser.parse_args()
    from bench.common import busy_warning

    busy_warning()
    print(f"started {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, load average {os.getloadavg()}")
    scratch = Path(tempfile.mkdtemp(prefix="mp-load-"))
    root = args.keep or scratch / "served"
    if args.store:
        copy_store(args.store, root)
    else:
        from tests.conftest import seed_reduced_demo

        t0 = time.perf_counter()
        seed_reduced_demo(scratch / "seed")
        print(f"seeded the reduced demo in {time.perf_counter() - t0:.0f} s")
        copy_store(scratch / "seed", root)
    logger = LoadLogger().start()
    try:
        alone, many, extra = asyncio.run(bench(root, args))
    finally:
        logger.stop()
    extra["machine: other processes above 20% CPU"] = logger.others() or "none"
    extra["load average samples (1 min)"] = [round(s[1][0], 2) for s in logger.samples]
    print(report(alone, many, extra))
    for phase in (alone, many):
        for line in phase["problems"] + phase["js_errors"]:
            print(f"  {phase['phase']}: {line}")
    if args.json:
        args.json.write_text(json.dumps({"alone": alone, "many": many, "extra": extra}, indent=2, default=str))
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    bad = alone["problems"] + many["problems"] + ([] if extra["server log problems"] == "none" else ["log"])
    return 1 if bad or not extra["inbox file in done/"] else 0


if __name__ == "__main__":
    sys.exit(main())
