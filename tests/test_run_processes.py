"""Readers and the writer, proven with real processes: ``python -m etl run`` as cron starts it, against a warehouse
built from the project's fixtures, with readers, an analyst's open session, SIGKILL and a second run around it.

Each run here loads several exports in USD (every load fully current: no file replaces another's rows) and has
nothing to fetch (no tickers; no currency but USD), so no test needs Yahoo.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from etl.cli import main as cli_main
from etl.warehouse import connect_readonly
from tests.conftest import FIXTURES, REPO, run_process
from tests.helpers import read_csv_rows, table_rows
from tests.test_run import NO_MARKETS, write_config

pytestmark = pytest.mark.slow  # a demo build or real processes each: run first (tests/conftest.py)

BILLING = FIXTURES / "billing"
# all in USD, so that the FX step has nothing to fetch; no file replaces another's rows
OLD_SOURCES = (f'path = "{BILLING / "focus" / "focus_1_3_renames.csv"}"',)
NEW_SOURCES = (*OLD_SOURCES,
               *(f'path = "{BILLING / "gcp" / name}"' for name in (
                   "gcp_billing_export_v1_standard.jsonl", "gcp_flattened_detailed_json_lists.csv",
                   "gcp_flattened_python_literals.csv")),
               f'name = "oci"\npath = "{BILLING / "oci"}"',
               f'path = "{BILLING / "azure" / "c360_detail_202309.csv"}"',
               f'path = "{BILLING / "azure" / "payg_2019-11-01.csv"}"',
               f'path = "{BILLING / "aws" / "cur_legacy_2025-03.csv"}"',
               f'path = "{BILLING / "generic" / "coreweave_invoice_2025-06.csv"}"\nformat = "generic"\n'
               f'mapping = "{REPO / "examples" / "mappings" / "coreweave_invoice.toml"}"')

# An analyst's session: the DuckDB CLI pinned in requirements-dev.txt (the tool `make sql` opens), read-only on the
# warehouse, answering each SQL line of its standard input with one line.
ANALYST = [str(Path(sys.executable).parent / "duckdb"), "-readonly", "-list", "-noheader"]

PROVIDER_TOTALS = ("SELECT ServiceProviderName, BillingCurrency, sum(BilledCost)::VARCHAR FROM cost "
                   "GROUP BY ALL ORDER BY ALL")

# Every current billing load's rows in `cost` add up, per currency, to what `load_log` recorded for it: the number of
# loads that do not (0 unless a reader sees a half-done load).
UNRECONCILED = """
    WITH logged AS (SELECT load_id, t.currency, t.billed FROM load_log, unnest(totals) AS u(t)
                    WHERE kind = 'billing' AND status = 'loaded'),
         stored AS (SELECT x_LoadId AS load_id, BillingCurrency AS currency, sum(BilledCost) AS billed
                    FROM cost GROUP BY ALL)
    SELECT count(*) FROM logged FULL JOIN stored USING (load_id, currency)
    WHERE logged.billed IS DISTINCT FROM stored.billed"""

# A reader that queries in a loop until told to stop: each answer, in one snapshot, checks UNRECONCILED, then prints
# the per-provider totals as one JSON line (or the error).
READER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from etl.warehouse import connect_readonly
    db, stop = Path(sys.argv[1]), Path(sys.argv[2])  # argv[3]: UNRECONCILED, argv[4]: the per-provider totals query
    while not stop.exists():
        try:
            con = connect_readonly(db)
            try:
                unreconciled = con.execute(sys.argv[3]).fetchall()[0][0]
                totals = con.execute(sys.argv[4]).fetchall()
            finally:
                con.close()
            print(json.dumps({"unreconciled": unreconciled, "totals": totals}), flush=True)
        except Exception as exc:
            print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
""")

# The dashboard's reader in a loop: the same answers through the connection it holds per published file (each answer
# in one snapshot), plus how many of the warehouse's files the process holds open (1: a superseded file's connection
# was closed).
HELD_READER = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    from dashboard.queries.reader import Reader
    db, stop = Path(sys.argv[1]), Path(sys.argv[2])
    reader = Reader(db)

    def held():  # open files that are the warehouse, published or replaced ("<path> (deleted)")
        targets = []
        for fd in Path("/proc/self/fd").iterdir():
            try:
                targets.append(os.readlink(fd))
            except OSError:  # the fd of the listing itself
                pass
        return sum(t in (str(db), str(db) + " (deleted)") for t in targets)

    while not stop.exists():
        try:
            with reader.snapshot() as snapshot:
                unreconciled = snapshot.row(sys.argv[3])[0]
                totals = snapshot.using(lambda con: con.execute(sys.argv[4]).fetchall())
            print(json.dumps({"unreconciled": unreconciled, "totals": totals, "held": held()}), flush=True)
        except Exception as exc:
            print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
""")


def provider_totals(db: Path) -> list[list[str]]:
    con = connect_readonly(db)
    try:
        return [list(row) for row in con.execute(PROVIDER_TOTALS).fetchall()]
    finally:
        con.close()


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPENDSCOPE_")}
    env["PYTHONPATH"] = str(REPO)
    return env


def start_run(config: Path, db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "etl", "--config", str(config), "--db", str(db), "run"], cwd=REPO,
                            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def start_reader(script: str, db: Path, stop: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", script, str(db), str(stop), UNRECONCILED, PROVIDER_TOTALS], cwd=REPO,
                            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def work_files(db: Path) -> list[Path]:
    return sorted(db.parent.glob(f"{db.name}.work-*"))


@pytest.fixture(scope="module")
def old_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A published warehouse holding the old state: one FOCUS export and the event catalog."""
    folder = tmp_path_factory.mktemp("old")
    db = folder / "warehouse.duckdb"
    assert cli_main(["--config", str(write_config(folder, *OLD_SOURCES, extra=NO_MARKETS)), "--db", str(db),
                     "run"]) == 0
    yield db


@pytest.fixture
def setup(old_warehouse: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the old warehouse and the configuration of the new run: (warehouse, config.toml)."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(old_warehouse, db)
    return db, write_config(tmp_path, *NEW_SOURCES, extra=NO_MARKETS)


def test_a_reader_in_a_loop_during_a_run_sees_the_old_or_the_new_state_and_always_reconciles(setup, tmp_path):
    db, config = setup
    old = provider_totals(db)
    stop = tmp_path / "stop"
    reader = start_reader(READER, db, stop)
    try:
        time.sleep(0.5)
        run = start_run(config, db)
        out, err = run.communicate(timeout=120)
        time.sleep(0.5)
    finally:
        stop.touch()
        answers_out, reader_err = reader.communicate(timeout=30)
    assert run.returncode == 0, out + err
    new = provider_totals(db)
    assert new != old and len(new) > len(old)
    answers = [json.loads(line) for line in answers_out.splitlines()]
    assert [a for a in answers if "error" in a] == [], reader_err
    assert len(answers) >= 10 and all(a["unreconciled"] == 0 for a in answers)
    states = [("old" if a["totals"] == old else "new" if a["totals"] == new else "other") for a in answers]
    assert "other" not in states and states[0] == "old" and states[-1] == "new"
    assert states == sorted(states, key=["old", "new"].index)  # never back to the old state once published


def test_the_dashboards_held_connection_sees_every_publish_and_never_blocks_a_write(setup, tmp_path):
    """The dashboard's reader keeps one connection per published file: across three `billing load`s and an `etl run`
    (each its own write session and publish) it never errors, never sees a half-done load, sees each publish before
    the next write starts, and holds one file at a time (the superseded one is closed)."""
    db, config = setup
    states = [provider_totals(db)]
    writes = [["billing", "load", str(BILLING / "gcp" / "gcp_billing_export_v1_standard.jsonl")],
              ["billing", "load", str(BILLING / "oci")],
              ["billing", "load", str(BILLING / "azure" / "c360_detail_202309.csv")],
              ["--config", str(config), "run"]]
    stop = tmp_path / "stop"
    reader = start_reader(HELD_READER, db, stop)
    answers: list[dict] = []

    def read_until(state: list) -> None:  # the reader's answers until one shows `state` (or 60 s pass)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = reader.stdout.readline()
            assert line, reader.stderr.read()
            answers.append(json.loads(line))
            if answers[-1].get("totals") == state:
                return
        raise AssertionError(f"the reader did not see {state}; its last answer: {answers[-1]}")

    try:
        read_until(states[0])
        for args in writes:
            result = run_process(["--db", str(db), *args], timeout=120)
            assert result.returncode == 0, result.stdout + result.stderr  # a held reader blocks no write
            states.append(provider_totals(db))
            read_until(states[-1])
    finally:
        stop.touch()
        rest, _ = reader.communicate(timeout=30)
    answers += [json.loads(line) for line in rest.splitlines()]
    assert all(a != b for a, b in itertools.pairwise(states))  # every write changed the totals
    assert [a for a in answers if "error" in a] == []
    assert all(a["unreconciled"] == 0 and a["held"] == 1 for a in answers)
    seen = [states.index(a["totals"]) for a in answers]  # ValueError: a state no write published
    assert seen == sorted(seen) and sorted(set(seen)) == list(range(len(states)))


def test_a_run_succeeds_while_an_analyst_session_is_open_which_keeps_the_old_snapshot(setup):
    db, config = setup
    old, query = provider_totals(db), "SELECT sum(BilledCost)::VARCHAR, count(*) FROM cost;\n"
    analyst = subprocess.Popen([*ANALYST, str(db)], cwd=REPO, env=child_env(), stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        analyst.stdin.write(query)
        analyst.stdin.flush()
        before = analyst.stdout.readline()
        assert int(before.split("|")[1]) > 0, analyst.stderr.read() if analyst.poll() is not None else before
        result = run_process(["--config", str(config), "--db", str(db), "run"], timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        analyst.stdin.write(query)
        analyst.stdin.flush()
        assert analyst.stdout.readline() == before  # the snapshot it opened: the old file
    finally:
        analyst.stdin.close()
        analyst.wait(timeout=30)
    assert provider_totals(db) != old
    reconnected = subprocess.run([*ANALYST, str(db)], input=query, cwd=REPO, env=child_env(), capture_output=True,
                                 text=True, timeout=60, check=True)
    assert reconnected.stdout != before and int(reconnected.stdout.split("|")[1]) > int(before.split("|")[1])


@pytest.mark.parametrize(("point", "line", "occurrence"), [
    ("lock taken, copy made", " etl.run: writing ", 1),
    ("mid-load", " etl.billing.loader: loaded ", 3),
    ("just before publishing", "step eventstudy ", 1),
])
def test_a_run_killed_at_any_point_leaves_the_published_warehouse_intact(setup, point, line, occurrence):
    db, config = setup
    old = provider_totals(db)
    run = start_run(config, db)
    seen = 0
    for text in run.stderr:
        seen += line in text
        if seen == occurrence:
            run.send_signal(signal.SIGKILL)
            break
    run.wait(timeout=60)
    assert run.returncode == -signal.SIGKILL, f"the run ended before {point}"
    # the published file opens and holds the old state; only at the last point may the kill land after the rename,
    # and then it holds the whole new state (checked against the next run's below)
    after_kill = provider_totals(db)
    published = after_kill != old
    assert not published or point == "just before publishing"
    assert bool(work_files(db)) is not published  # a killed run's work file stays until the next run

    again = run_process(["--config", str(config), "--db", str(db), "run"], timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert ("left by an interrupted ETL run" in again.stderr) is not published
    assert work_files(db) == []
    new = provider_totals(db)
    assert len(new) > len(old) and (not published or after_kill == new)


def test_of_two_runs_started_together_one_runs_and_the_other_exits_3_at_once(setup):
    db, config = setup
    runs = [start_run(config, db), start_run(config, db)]
    ended: dict[int, float] = {}
    deadline = time.monotonic() + 120
    while len(ended) < 2 and time.monotonic() < deadline:
        for index, run in enumerate(runs):
            if index not in ended and run.poll() is not None:
                ended[index] = time.monotonic()
        time.sleep(0.02)
    outputs = [run.communicate(timeout=10) for run in runs]
    codes = [run.returncode for run in runs]
    assert sorted(codes) == [0, 3], outputs
    winner, loser = codes.index(0), codes.index(3)
    assert ended[loser] < ended[winner]  # it did not wait for the lock
    assert "another ETL run holds the writer lock" in outputs[loser][0]
    assert work_files(db) == []


def test_the_printed_crontab_line_runs_in_a_clean_environment(tmp_path):
    sources = [BILLING / "focus" / "focus_1_3_renames.csv", BILLING / "oci"]
    config = write_config(tmp_path, *(f'path = "{p}"' for p in sources),
                          extra=f'db = "{tmp_path / "warehouse.duckdb"}"\n{NO_MARKETS}')
    printed = run_process(["--config", str(config), "cron", "--log", "logs/etl-run.log"], cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    line = printed.stdout.strip()
    schedule, command = line.split(" ", 5)[:5], line.split(" ", 5)[5]
    assert schedule == ["15", "6", "*", "*", "*"]
    home = tmp_path / "home"
    home.mkdir()
    result = subprocess.run(["sh", "-c", command], env={"PATH": "/usr/bin:/bin", "HOME": str(home)}, cwd="/",
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0 and result.stdout == result.stderr == ""  # everything went to the log
    log = (tmp_path / "logs" / "etl-run.log").read_text(encoding="utf-8")
    assert " INFO etl.run: step billing ok in " in log
    assert log.rstrip().splitlines()[-1].startswith("run succeeded: 5 steps ok, 0 failed, 5 skipped; published ")
    files = [sources[0], *sorted(sources[1].glob("*.csv"))]
    con = connect_readonly(tmp_path / "warehouse.duckdb")
    try:
        assert con.execute("SELECT count(*) FROM cost").fetchall() == [(sum(len(read_csv_rows(f)) for f in files),)]
        assert con.execute("SELECT count(*) FROM load_log WHERE kind = 'billing' AND status = 'loaded'").fetchall() \
            == [(len(files),)]
    finally:
        con.close()


def test_a_run_on_a_fresh_demo_skips_the_events_before_its_prices_instead_of_failing(tmp_path):
    """``make run``'s demo, then the cron job on it: the catalog's 2019 event predates the demo's prices (from 2023),
    so its pair is skipped with the reason, in the step's counts and the stored run, and fails nothing. (Offline,
    the FX step cannot refresh the demo's EUR rates from Yahoo: that failure is the run's only one.)"""
    db = tmp_path / "warehouse.duckdb"
    demo = run_process(["--db", str(db), "demo", "--unless-real", "--offline", "--rows", "1000",
                        "--out", str(tmp_path / "demo")])
    assert demo.returncode == 0, demo.stderr
    config = write_config(tmp_path, extra=NO_MARKETS)
    run = run_process(["--config", str(config), "--db", str(db), "run"])
    steps = {row["step"]: row for row in table_rows(run.stdout, "step")}
    assert steps["eventstudy"]["status"] == "ok", run.stdout
    assert ", 1 skipped, 0 failed (skipped: msft-openai-investment-2019 / MSFT: not enough price history: day 0 " \
           "2019-07-22 is outside it (SPY and MSFT have prices from 2023-01-03 to " in steps["eventstudy"]["what"]
    assert [name for name, row in steps.items() if row["status"] == "failed"] == ["fx"]  # Yahoo is offline here
    assert run.returncode == 1 and "1 failed (fx)" in run.stdout.splitlines()[-1]
    con = connect_readonly(db)
    try:
        runs = con.execute("SELECT run_id, failed, skipped, status, message FROM event_study_runs "
                           "ORDER BY run_id").fetchall()
    finally:
        con.close()
    assert [row[:4] for row in runs] == [(1, 0, 1, "ok"), (2, 0, 1, "ok")]  # the demo's own run, then the cron job's
    assert runs[1][4].startswith("skipped msft-openai-investment-2019 / MSFT: not enough price history")
