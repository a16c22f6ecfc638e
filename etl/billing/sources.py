"""Turning the paths a user gives into load units: single files, or a manifest plus the blobs it lists.

Only headers are read here (the first line of a CSV, the schema of a Parquet file, the first record of a
JSON file); the data itself is read by DuckDB in ``loader.py``.
"""

from __future__ import annotations

import csv
import glob
import gzip
import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from etl.billing.base import InputError

DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".json", ".json.gz", ".ndjson", ".jsonl", ".ndjson.gz")
MANIFEST_NAME = "manifest.json"
_EXPORT_TIME_DIR = re.compile(r"^(\d{12})$")  # Azure export-time folder, e.g. 202301041442


class SourceError(InputError):
    """A path or manifest that cannot be turned into data files; the message names it."""


@dataclass(frozen=True)
class Source:
    """One load unit: what the user named (``label``) and the data files that make it up."""

    label: str
    files: tuple[Path, ...]
    kind: str  # csv | parquet | json
    expected_rows: int | None = None
    export_time: datetime | None = None
    dataset_hint: str | None = None

    @property
    def total_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.files)


def expand_paths(paths: list[str]) -> tuple[list[Source], list[tuple[str, str]]]:
    """Expand files, directories and globs into sources; returns (sources, [(path, error)])."""
    sources: list[Source] = []
    problems: list[tuple[str, str]] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = _directory_sources(path)
        elif path.exists():
            candidates = [path]
        elif glob.has_magic(raw):
            matched = sorted(Path(p) for p in glob.glob(raw, recursive=True))
            if not matched:
                problems.append((raw, "no file matches this pattern"))
            candidates = [p for p in matched if p.is_file()]
        else:
            problems.append((raw, "no such file or directory"))
            continue
        for candidate in candidates:
            resolved = candidate.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            try:
                source = manifest_source(candidate) if candidate.name == MANIFEST_NAME else file_source(candidate)
            except SourceError as exc:
                problems.append((str(candidate), str(exc)))
                continue
            seen.update(f.resolve() for f in source.files)
            sources.append(source)
    return sources, problems


def _directory_sources(directory: Path) -> list[Path]:
    """Data files below ``directory``; a folder with a manifest contributes the manifest, not its blobs."""
    manifests = sorted(directory.rglob(MANIFEST_NAME))
    covered = {m.parent for m in manifests}
    files = [
        p for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != MANIFEST_NAME and p.name.lower().endswith(DATA_SUFFIXES)
        and not any(parent in covered for parent in p.parents)
    ]
    return manifests + files


def file_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".json", ".json.gz", ".ndjson", ".jsonl", ".ndjson.gz")):
        return "json"
    return "csv"


def file_source(path: Path) -> Source:
    return Source(label=str(path), files=(path,), kind=file_kind(path))


def manifest_source(path: Path) -> Source:
    """An Azure Cost Management partitioned export: every blob the manifest lists, as one unit."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SourceError(f"{path}: not a readable JSON manifest ({exc})") from exc
    blobs = manifest.get("blobs")
    if not isinstance(blobs, list) or not blobs:
        raise SourceError(f"{path}: manifest has no 'blobs' list; expected an Azure export manifest")
    files: list[Path] = []
    expected = 0
    for index, blob in enumerate(blobs):
        name = blob.get("blobName") if isinstance(blob, dict) else None
        if not name:
            raise SourceError(f"{path}: blobs[{index}] has no 'blobName'")
        located = _locate_blob(path.parent, name)
        if located is None:
            raise SourceError(
                f"{path}: blobs[{index}] '{name}' ({blob.get('dataRowCount', '?')} rows) was not found next to "
                f"the manifest; download every blob of the export before loading it"
            )
        files.append(located)
        count = blob.get("dataRowCount")
        if not isinstance(count, int):
            raise SourceError(f"{path}: blobs[{index}] has no integer 'dataRowCount'")
        expected += count
    if isinstance(manifest.get("dataRowCount"), int) and manifest["dataRowCount"] != expected:
        raise SourceError(
            f"{path}: dataRowCount {manifest['dataRowCount']} differs from the sum over its blobs ({expected})"
        )
    kinds = {file_kind(f) for f in files}
    if len(kinds) != 1:
        raise SourceError(f"{path}: blobs mix file types {sorted(kinds)}")
    export_type = str((manifest.get("exportConfig") or {}).get("type", "")).lower()
    dataset = {"actualcost": "actual", "amortizedcost": "amortized"}.get(export_type)
    return Source(
        label=str(path), files=tuple(files), kind=kinds.pop(), expected_rows=expected,
        export_time=_manifest_export_time(manifest, blobs[0]["blobName"]), dataset_hint=dataset,
    )


def _locate_blob(folder: Path, blob_name: str) -> Path | None:
    """Blob names are container paths; look for the longest suffix of that path under the manifest's folder."""
    parts = Path(blob_name).parts
    for start in range(len(parts)):
        candidate = folder.joinpath(*parts[start:])
        if candidate.is_file():
            return candidate
    return None


def _manifest_export_time(manifest: dict, first_blob: str) -> datetime | None:
    run_info = manifest.get("runInfo") or {}
    for key in ("submittedTime", "startDate"):
        if run_info.get(key):
            try:
                return datetime.fromisoformat(str(run_info[key]).replace("Z", "+00:00")).astimezone(UTC)
            except ValueError:
                pass
    for part in Path(first_blob).parts:
        if _EXPORT_TIME_DIR.match(part):
            return datetime.strptime(part, "%Y%m%d%H%M").replace(tzinfo=UTC)
    return None


def read_columns(source: Source) -> tuple[str, ...]:
    """The header of the source's first file, as written (BOM removed)."""
    first = source.files[0]
    if first.stat().st_size == 0:
        raise SourceError(f"{first}: the file is empty (0 bytes); expected a header line and data rows")
    if source.kind == "parquet":
        con = duckdb.connect()
        try:
            rows = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(first)]).fetchall()
        except duckdb.Error as exc:
            raise SourceError(f"{first}: not a readable Parquet file ({_first_line(exc)})") from exc
        finally:
            con.close()
        return tuple(row[0] for row in rows)
    text = _first_line_of(first)
    if source.kind == "json":
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{first}, line 1: not a JSON object per line ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise SourceError(f"{first}, line 1: expected one JSON object per line")
        return tuple(record)
    header = next(csv.reader(io.StringIO(text)), [])
    if not any(h.strip() for h in header):
        raise SourceError(f"{first}, line 1: the header line is empty; expected column names")
    return tuple(h.replace("\ufeff", "") for h in header)


def _first_line_of(path: Path) -> str:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            return handle.readline().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read the first line as UTF-8 text ({exc})") from exc


def check_same_header(source: Source, columns: tuple[str, ...]) -> None:
    """Every blob of a manifest must have the header of the first one."""
    for other in source.files[1:]:
        other_columns = read_columns(Source(label=str(other), files=(other,), kind=source.kind))
        if other_columns != columns:
            raise SourceError(f"{other}: header differs from {source.files[0]}; blobs of one export must match")


def sha256_of(source: Source) -> str:
    digest = hashlib.sha256()
    for path in source.files:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0]
