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

from etl.billing.base import InputError, sql_string

DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".json", ".json.gz", ".ndjson", ".jsonl", ".ndjson.gz")
MANIFEST_NAME = "manifest.json"
_EXPORT_TIME_DIR = re.compile(r"^(\d{12})$")  # Azure export-time folder, e.g. 202301041442


class SourceError(InputError):
    """A path or manifest that cannot be turned into data files; the message names it."""


@dataclass(frozen=True)
class Header:
    """The columns of a source's first file as written (BOM removed) and, for Parquet, their DuckDB types (an
    adapter reading nested records needs to know which struct fields a file has)."""

    columns: tuple[str, ...]
    types: tuple[duckdb.DuckDBPyType, ...] = ()

    def type_of(self) -> dict[str, duckdb.DuckDBPyType | None]:
        """Each column's type by name (None for every column of a text file)."""
        return dict(zip(self.columns, self.types or (None,) * len(self.columns), strict=True))


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


@dataclass(frozen=True)
class Expansion:
    """What a list of paths became: the sources to load, the paths that could not become one (with the reason) and
    the data files of a manifest's folder that its manifest does not list (with the manifest), which are not
    loaded."""

    sources: list[Source]
    problems: list[tuple[str, str]]
    unlisted: list[tuple[Path, Path]]


def expand_paths(paths: list[str]) -> tuple[list[Source], list[tuple[str, str]]]:
    """Expand files, directories and globs into sources; returns (sources, [(path, error message)]). See
    :func:`expand`, which also reports the files a manifest's folder holds but its manifest does not list."""
    expansion = expand(paths)
    return expansion.sources, expansion.problems


def expand(paths: list[str]) -> Expansion:
    """Expand files, directories and globs into sources.

    A manifest (Azure's ``manifest.json``, AWS's ``<report>-Manifest.json``) makes its listed files one source;
    so do the numbered parts of one export in one folder (``report-00001.csv.gz``, ``report-00002.csv.gz``…, the
    five-digit numbering of AWS Data Exports and OCI), so that the parts of a billing period replace the period
    together rather than each other. A folder holding a manifest contributes only the manifest; its other data
    files are returned as ``unlisted``.
    """
    candidates: list[Path] = []
    below_manifests: list[tuple[Path, Path]] = []
    problems: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found, covered = _directory_sources(path)
            candidates += found
            below_manifests += covered
        elif path.exists():
            candidates.append(path)
        elif glob.has_magic(raw):
            matched = sorted(Path(p) for p in glob.glob(raw, recursive=True))
            if not matched:
                problems.append((raw, f"{raw}: no file matches this pattern"))
            candidates += [p for p in matched if p.is_file()]
        else:
            problems.append((raw, f"{raw}: no such file or directory"))
    sources: list[Source] = []
    seen: set[Path] = set()
    for manifest in [c for c in candidates if is_manifest(c)]:
        try:
            source = manifest_source(manifest)
        except SourceError as exc:
            problems.append((str(manifest), str(exc)))
            continue
        seen.update(f.resolve() for f in source.files)
        sources.append(source)
    data = [c for c in dict.fromkeys(c.resolve() for c in candidates if not is_manifest(c)) if c not in seen]
    originals = {c.resolve(): c for c in candidates}
    for group in _group_parts([originals[c] for c in data]):
        sources.append(group)
    unlisted = [(file, manifest) for file, manifest in dict.fromkeys(below_manifests) if file.resolve() not in seen]
    return Expansion(sources, problems, unlisted)


_PART = re.compile(
    r"^(?P<stem>.+)-(?P<part>\d{5})(?P<ext>\.(?:snappy\.)?(?:csv|parquet|json|jsonl|ndjson)(?:\.gz)?)$",
    re.IGNORECASE)


def _group_parts(files: list[Path]) -> list[Source]:
    """One source per file, in the order given, except numbered parts sharing a folder, stem and extension, which
    become one source (at the place of the first part)."""
    groups: dict[tuple[Path, str, str], list[tuple[int, Path]]] = {}
    order: list[Path | tuple[Path, str, str]] = []
    for path in files:
        match = _PART.match(path.name)
        if not match:
            order.append(path)
            continue
        key = (path.parent, match["stem"], match["ext"])
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append((int(match["part"]), path))
    sources = []
    for item in order:
        if isinstance(item, Path):
            sources.append(file_source(item))
            continue
        parts = tuple(path for _, path in sorted(groups[item]))
        folder, stem, ext = item
        sources.append(file_source(parts[0]) if len(parts) == 1 else
                       Source(label=str(folder / f"{stem}-*{ext}"), files=parts, kind=file_kind(parts[0])))
    return sources


def is_manifest(path: Path) -> bool:
    name = path.name.lower()
    return name == MANIFEST_NAME or name.endswith("-manifest.json")


def _directory_sources(directory: Path) -> tuple[list[Path], list[tuple[Path, Path]]]:
    """Manifests and data files below ``directory``; data files in a folder below a manifest's are left to it and
    returned apart, each with the nearest manifest above it."""
    files = [p for p in sorted(directory.rglob("*")) if p.is_file()]
    manifests = [p for p in files if is_manifest(p)]
    covering = {m.parent: m for m in manifests}
    data, covered = [], []
    for path in files:
        if not path.name.lower().endswith(DATA_SUFFIXES) or is_manifest(path):
            continue
        manifest = next((covering[parent] for parent in path.parents if parent in covering), None)
        if manifest is None:
            data.append(path)
        else:
            covered.append((path, manifest))
    return manifests + data, covered


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
    """Every data file a manifest lists, as one source: an Azure Cost Management partitioned export
    (``blobs`` with ``dataRowCount``) or an AWS CUR delivery (``reportKeys``; CUR 2.0: ``dataFiles``)."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SourceError(f"{path}: not a readable JSON manifest ({exc})") from exc
    if not isinstance(manifest, dict):
        raise SourceError(f"{path}: expected a JSON object")
    if "blobs" in manifest:
        return _azure_manifest(path, manifest)
    keys = manifest.get("reportKeys") or manifest.get("dataFiles")
    if isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys):
        listing = "reportKeys" if manifest.get("reportKeys") else "dataFiles"
        return _listed_files(path, listing, keys, expected_rows=None, export_time=None, dataset=None)
    raise SourceError(f"{path}: expected an Azure export manifest ('blobs') or an AWS CUR manifest "
                      "('reportKeys' or 'dataFiles')")


def _azure_manifest(path: Path, manifest: dict) -> Source:
    blobs = manifest.get("blobs")
    if not isinstance(blobs, list) or not blobs:
        raise SourceError(f"{path}: manifest has no 'blobs' list; expected an Azure export manifest")
    names: list[str] = []
    expected = 0
    for index, blob in enumerate(blobs):
        name = blob.get("blobName") if isinstance(blob, dict) else None
        if not name:
            raise SourceError(f"{path}: blobs[{index}] has no 'blobName'")
        count = blob.get("dataRowCount")
        if not isinstance(count, int):
            raise SourceError(f"{path}: blobs[{index}] has no integer 'dataRowCount'")
        names.append(name)
        expected += count
    if isinstance(manifest.get("dataRowCount"), int) and manifest["dataRowCount"] != expected:
        raise SourceError(
            f"{path}: dataRowCount {manifest['dataRowCount']} differs from the sum over its blobs ({expected})"
        )
    export_type = str((manifest.get("exportConfig") or {}).get("type", "")).lower()
    dataset = {"actualcost": "actual", "amortizedcost": "amortized"}.get(export_type)
    return _listed_files(path, "blobs", names, expected, _manifest_export_time(manifest, names[0]), dataset,
                         [blob.get("dataRowCount") for blob in blobs])


def _listed_files(path: Path, listing: str, names: list[str], expected_rows: int | None,
                  export_time: datetime | None, dataset: str | None,
                  row_counts: list[int | None] | None = None) -> Source:
    files: list[Path] = []
    for index, name in enumerate(names):
        located = _locate_blob(path.parent, name)
        if located is None:
            rows = f" ({row_counts[index]} rows)" if row_counts else ""
            raise SourceError(f"{path}: {listing}[{index}] '{name}'{rows} was not found next to the manifest; "
                              "download every file of the export before loading it")
        files.append(located)
    kinds = {file_kind(f) for f in files}
    if len(kinds) != 1:
        raise SourceError(f"{path}: the listed files mix file types {sorted(kinds)}")
    return Source(label=str(path), files=tuple(files), kind=kinds.pop(), expected_rows=expected_rows,
                  export_time=export_time, dataset_hint=dataset)


def _locate_blob(folder: Path, blob_name: str) -> Path | None:
    """Listed names are bucket or container paths (``s3://…`` too): look for the longest suffix of that path under
    the manifest's folder and, for AWS CUR 2.0 whose manifest sits in a ``metadata`` tree, its parents."""
    parts = [part for part in Path(blob_name.split("://", 1)[-1]).parts if part not in ("/", "")]
    for depth, base in enumerate((folder, *list(folder.parents)[:3])):
        # next to the manifest the file name alone may match; further up, a folder and the name must
        for start in range(len(parts) - (1 if depth else 0)):
            candidate = base.joinpath(*parts[start:])
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


def read_header(source: Source) -> Header:
    """The header of the source's first file (see :class:`Header`)."""
    first = source.files[0]
    if first.stat().st_size == 0:
        raise SourceError(f"{first}: the file is empty (0 bytes); expected a header line and data rows")
    if source.kind == "parquet":
        con = duckdb.connect()
        try:
            relation = con.sql(f"SELECT * FROM read_parquet({sql_string(str(first))})")
            return Header(tuple(relation.columns), tuple(relation.types))
        except duckdb.Error as exc:
            raise SourceError(f"{first}: not a readable Parquet file ({_first_line(exc)})") from exc
        finally:
            con.close()
    text = _first_line_of(first)
    if source.kind == "json":
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{first}, line 1: not a JSON object per line ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise SourceError(f"{first}, line 1: expected one JSON object per line")
        return Header(tuple(record))
    header = next(csv.reader(io.StringIO(text)), [])
    if not any(h.strip() for h in header):
        raise SourceError(f"{first}, line 1: the header line is empty; expected column names")
    return Header(tuple(h.replace("\ufeff", "") for h in header))


def _first_line_of(path: Path) -> str:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            return handle.readline().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read the first line as UTF-8 text ({exc})") from exc


def check_same_header(source: Source, header: Header) -> None:
    """Every blob of a manifest must have the header of the first one."""
    for other in source.files[1:]:
        other_header = read_header(Source(label=str(other), files=(other,), kind=source.kind))
        if other_header.columns != header.columns:
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
