"""Shared test fixtures: a warehouse in a temporary folder, the CLI run in-process or as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from etl import warehouse as warehouse_module
from etl.billing.base import LoadOptions
from etl.billing.loader import load_sources
from etl.billing.sources import expand_paths
from etl.cli import main as cli_main
from etl.loadlog import LoadRecord
from etl.warehouse import Warehouse, connect_readonly

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
SHARED = REPO.parent / "shared"


BLACKHOLE_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, so a connection fails at once
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


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


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's config.toml or SPENDSCOPE_* variables."""
    for name in list(os.environ):
        if name.startswith("SPENDSCOPE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SPENDSCOPE_CONFIG", str(tmp_path / "no-config.toml"))
    (tmp_path / "no-config.toml").write_text("", encoding="utf-8")


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
