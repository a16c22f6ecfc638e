"""Shared test fixtures: a warehouse in a temporary folder, the CLI run in-process or as a real process."""

from __future__ import annotations

import fcntl
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from etl import pipelines
from etl import warehouse as warehouse_module
from etl.billing.base import LoadOptions
from etl.billing.loader import load_sources
from etl.billing.sources import expand_paths
from etl.cli import main as cli_main
from etl.config import load_config
from etl.loadlog import LoadRecord
from etl.warehouse import Warehouse, connect_readonly

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
SHARED = REPO.parent / "shared"


BLACKHOLE_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, so a connection fails at once
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist (``-n auto``, ``--dist load``) tests are handed out one at a time (``--maxschedchunk=1``, unless
    given): by default each worker first gets a quarter of its share as one consecutive chunk, which would give one
    worker every slow test below while the other ran the quick ones, ending minutes apart (README, "Test
    suite"). The price: a module-scoped fixture may be built on both workers."""
    if getattr(config.option, "maxschedchunk", 0) is None:
        config.option.maxschedchunk = 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow and browser tests run first, in their collected order, the quick ones after them: the workers share the
    long tests out and end together on quick ones, instead of one worker finishing a demo build alone while the
    other idles (the longest-first rule of scheduling)."""
    items.sort(key=lambda item: not (item.get_closest_marker("slow") or item.get_closest_marker("browser")))


@pytest.fixture(autouse=True, scope="session")
def _no_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Nothing in the suite reaches the internet: yfinance (and, through the proxy variables, every child
    process) goes through a proxy on a closed loopback port, so a leak fails fast instead of downloading.
    pytest-socket would not help: yfinance's curl_cffi transport bypasses Python's socket module.
    yfinance's timezone cache goes to a temporary folder. Local servers stay reachable (NO_PROXY)."""
    import yfinance as yf

    saved_env = {name: os.environ.get(name) for name in (*_PROXY_VARIABLES, "NO_PROXY", "no_proxy")}
    saved_proxy = yf.config.network.proxy
    yf.set_tz_cache_location(str(tmp_path_factory.mktemp("yfinance-cache")))
    yf.config.network.proxy = BLACKHOLE_PROXY
    for name in _PROXY_VARIABLES:
        os.environ[name] = BLACKHOLE_PROXY
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "localhost,127.0.0.1,::1"
    yield
    yf.config.network.proxy = saved_proxy
    for name, value in saved_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def isolate_settings(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Drop every SPENDSCOPE_* variable and point SPENDSCOPE_CONFIG at an empty file in ``folder``."""
    for name in list(os.environ):
        if name.startswith("SPENDSCOPE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SPENDSCOPE_CONFIG", str(folder / "no-config.toml"))
    (folder / "no-config.toml").write_text("", encoding="utf-8")


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's config.toml or SPENDSCOPE_* variables."""
    isolate_settings(monkeypatch, tmp_path)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def warehouse(db_path: Path) -> Warehouse:
    return Warehouse(db_path)


@pytest.fixture
def load_billing(warehouse: Warehouse):
    """Load billing files into the test warehouse in one write session; returns the per-source results."""

    def run(*paths: Path | str, options: LoadOptions | None = None) -> list[LoadRecord]:
        sources, problems = expand_paths([str(p) for p in paths])
        assert not problems, problems
        with warehouse.write("test") as session:
            return load_sources(session, sources, options or LoadOptions())

    return run


@pytest.fixture
def upgrade_from_before(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch):
    """Turn the test warehouse into one from before the migration ``name`` (``undo``: the SQL that removes what the
    migration made), then upgrade it as every write session does. Later migrations stay applied, so only those up to
    ``name`` are offered to the upgrade."""

    def upgrade(name: str, undo: str) -> None:
        every = warehouse_module.migrations()
        version = next(m.version for m in every if m.name == name)
        con = duckdb.connect(str(warehouse.path))
        try:
            con.execute(undo)
            con.execute("DELETE FROM schema_migrations WHERE version >= ?", [version])
        finally:
            con.close()
        monkeypatch.setattr(warehouse_module, "migrations", lambda: [m for m in every if m.version <= version])
        with warehouse.write("upgrade"):
            pass

    return upgrade


@pytest.fixture
def query(db_path: Path):
    """Run one read-only query against the published warehouse and return all rows."""

    def run(sql: str, params: list | None = None) -> list[tuple]:
        con = connect_readonly(db_path)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    return run


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(db_path: Path, capsys: pytest.CaptureFixture[str]):
    """Run ``python -m etl`` in-process against the test warehouse."""

    def run(*args: str) -> CliResult:
        code = cli_main(["--db", str(db_path), *args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def run_process(args: list[str], env: dict[str, str] | None = None, cwd: Path = REPO,
                timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m etl`` as a separate process, as cron would."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SPENDSCOPE_")}
    full_env.update(env or {})
    full_env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "etl", *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.fixture
def shared_billing() -> Iterator[Path]:
    folder = SHARED / "fixtures" / "billing"
    if not folder.is_dir():
        pytest.skip(f"shared fixtures not found at {folder} (they sit beside the checkout in CI)")
    yield folder


# ---- the demo, built once per run -----------------------------------------------------------------------------------
# A demo build loads ~180 export files (15-20 s). It is built once for the whole run, and tests that start from it
# get a private copy of its warehouse and exports (milliseconds), so what a test writes changes its copy only.

OFFLINE_DEMO = ("demo", "--offline", "--end", "2025-12-31", "--rows", "600")


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder ``name``, filled by ``build`` once per run: xdist's workers share the parent of their base
    temporary folders, and a lock file there makes the others wait for the first one's build instead of repeating
    it. A failed build leaves no ``built`` mark, so the next test to ask builds (and fails) again."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder = root / name
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "built").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            (folder / "built").touch()
    return folder


def copy_built(template: Path, db_path: Path) -> Path:
    """Copy a built demo folder (``warehouse.duckdb`` and ``exports/``) to the test's ``db_path`` and the
    ``exports`` folder beside it, where the test would have built it."""
    shutil.copyfile(template / "warehouse.duckdb", db_path)
    shutil.copytree(template / "exports", db_path.parent / "exports")
    return db_path


@pytest.fixture(scope="session")
def demo_billing_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's billing half (600 rows, seed 7, and its SYNTHETIC catalog; no market) through the pipeline
    ``python -m etl demo`` runs: the folder it was built in, with the build's records in ``build.pickle``."""

    def build(folder: Path) -> None:
        config = load_config(None, environ={"SPENDSCOPE_DB": str(folder / "warehouse.duckdb")})
        with Warehouse(folder / "warehouse.duckdb").write("demo") as session:
            demo = pipelines.build_demo(config, session, folder / "exports", rows=600, seed=7, market=False)
        (folder / "build.pickle").write_bytes(pickle.dumps(demo))

    return built_once(tmp_path_factory, "demo-billing", build)


@pytest.fixture
def demo_billing(demo_billing_template: Path, db_path: Path) -> pipelines.DemoBuild:
    """A private copy of the demo's billing half at ``db_path``; returns the build's records (their paths are
    the template's)."""
    copy_built(demo_billing_template, db_path)
    return pickle.loads((demo_billing_template / "build.pickle").read_bytes())


@pytest.fixture(scope="session")
def offline_demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder where ``python -m etl demo --offline --end 2025-12-31 --rows 600`` (in-process, settings
    isolated as in every test) built its warehouse and exports."""

    def build(folder: Path) -> None:
        with pytest.MonkeyPatch.context() as monkeypatch:
            isolate_settings(monkeypatch, folder)
            code = cli_main(["--db", str(folder / "warehouse.duckdb"), *OFFLINE_DEMO,
                             "--out", str(folder / "exports")])
        assert code == 0

    return built_once(tmp_path_factory, "offline-demo", build)


@pytest.fixture
def offline_demo(offline_demo_template: Path, db_path: Path) -> Path:
    """A private copy of the offline demo's warehouse at ``db_path`` (its exports beside it)."""
    return copy_built(offline_demo_template, db_path)
