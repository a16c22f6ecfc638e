"""The example queries of ``sql/examples/*.sql``, offered by the SQL page's console and run by the tests (in the
sandbox and in the DuckDB CLI). Each file is one query whose first line is a comment giving its title."""

from __future__ import annotations

from dataclasses import dataclass

from etl.warehouse import SQL_DIR

EXAMPLES_DIR = SQL_DIR / "examples"


@dataclass(frozen=True)
class Example:
    name: str  # the file's stem: 10_monthly_spend
    title: str
    sql: str  # the whole file, title comment included


def examples() -> tuple[Example, ...]:
    """Every example, in file-name order; a file without a title comment is an error naming it."""
    found = []
    for path in sorted(EXAMPLES_DIR.glob("*.sql")):
        text = path.read_text(encoding="utf-8").strip()
        first = text.splitlines()[0] if text else ""
        if not first.startswith("--") or not first.strip("- "):
            raise ValueError(f"{path}: an example query starts with a comment line giving its title")
        found.append(Example(path.stem, first.strip("- "), text + "\n"))
    return tuple(found)
