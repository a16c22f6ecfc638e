"""Compiling a :class:`~etl.billing.base.Plan` into SQL: one set-based statement that reads, parses, validates and
normalises a source's rows into ``cost_line``.

Three stages, each a SELECT over the previous one:

1. *read*: ``read_csv`` (every column as text, the header's names made canonical), ``read_parquet`` (records
   numbered by ``file_row_number``) or ``read_json``, one per file of the source, with ``x_line`` and ``x_file``;
2. *parse*: each field through its checked macro (``sql/macros.sql``), which raises ``line N, column "X": …`` for a
   value it cannot parse or a required value that is missing;
3. *map*: each FOCUS and helper column from the adapter's ``FOCUS`` template, its ``{placeholders}`` replaced by the
   plan's derived expressions or the parsed fields.

:func:`insert_sql` then resolves provider aliases, currency codes and the category mapping tables (``lookups.py``)
and inserts the rows with their provenance (``x_SourceFile``, ``x_SourceLine``, ``x_LoadId``, ``x_ReplaceKey``…).
"""

from __future__ import annotations

from pathlib import Path

from etl.billing.base import (
    FOCUS_COLUMNS,
    HELPER_COLUMNS,
    MANDATORY_FOCUS,
    PLACEHOLDER,
    Field,
    Plan,
    quote_ident,
    sql_string,
)
from etl.billing.lookups import Lookups, by_provider, case_map
from etl.billing.sources import Source
from etl.billing.units import export_time_sql, replace_key_sql

_NULL_OF_KIND = {"num": "NULL::DECIMAL(38, 12)", "ts": "NULL::TIMESTAMP", "json": "NULL::JSON",
                 "text": "NULL::VARCHAR", "raw": "NULL"}
_CHECKED_MACRO = {"num": "ss_num", "ts": "ss_ts", "json": "ss_json_object"}


def normalised_select(source: Source, columns: tuple[str, ...], plan: Plan, *, numbered: bool, strict: bool = True,
                      files: list[Path] | None = None, reader: str | None = None) -> str:
    """The rows of ``files`` (default: all of the source's) parsed and mapped to FOCUS and helper columns, with
    ``x_line`` and ``x_file``. Unnumbered, ``x_line`` is 0 (cheaper: see ``ingest.py``). ``reader``: a SELECT of
    ``x_line``, ``x_file`` and ``columns`` that replaces reading files (rows staged from an API, such as BigQuery's
    result pages)."""
    columns = plan.reader_columns or columns
    canonical = plan.adapter.column_names(columns)
    original = dict(zip(canonical, columns, strict=True))
    reader = reader or " UNION ALL ".join(
        _reader_sql(source.kind, path, columns, canonical, plan.read_options, numbered, strict)
        for path in (files if files is not None else source.files))
    blank_is_null = source.kind == "parquet"
    parsed = ", ".join(_parsed_field(key, found, spec, original, blank_is_null)
                       for key, (found, spec) in plan.fields.items())
    focus = ", ".join(f"{focus_expr(name, plan)} AS {quote_ident(name)}" for name in FOCUS_COLUMNS + HELPER_COLUMNS)
    return f"""
        WITH src AS ({reader}),
        parsed AS (SELECT x_line, x_file, {parsed} FROM src)
        SELECT x_line, x_file, {focus} FROM parsed
    """


def focus_expr(name: str, plan: Plan) -> str:
    """The SQL of one FOCUS or helper column: the adapter's template with its placeholders resolved (NULL when the
    format has no such column; a mandatory column is checked row by row with ``ss_required``)."""
    template = plan.adapter.FOCUS.get(name)
    if template is None:
        return "NULL"
    expr = expand(template, plan)
    if name in MANDATORY_FOCUS:
        expr = f"ss_required({expr}, x_line, {sql_string(name)})"
    return expr


def expand(template: str, plan: Plan) -> str:
    """Replace ``{name}`` by the plan's derived expression of that name (itself over fields), else by the field."""
    def derived(match: object) -> str:
        key = match.group(1)  # type: ignore[attr-defined]
        return f"({_fields_only(plan.derived[key], plan)})" if key in plan.derived else _field(key, plan)

    return PLACEHOLDER.sub(derived, template)


def _fields_only(expression: str, plan: Plan) -> str:
    return PLACEHOLDER.sub(lambda m: _field(m.group(1), plan), expression)


def _field(key: str, plan: Plan) -> str:
    if key not in plan.fields:
        raise RuntimeError(f"adapter {plan.format} refers to {{{key}}}, which its plan neither binds nor derives")
    return quote_ident(key)


def insert_sql(normalised: str, source: Source, plan: Plan, load_id: int, lookups: Lookups) -> str:
    """INSERT the normalised rows into cost_line (see :func:`resolved_select`)."""
    return "INSERT INTO cost_line BY NAME " + resolved_select(normalised, source, plan, load_id, lookups)


def resolved_select(normalised: str, source: Source, plan: Plan, load_id: int, lookups: Lookups) -> str:
    """The normalised rows as ``cost_line`` rows: provider aliases, currency codes and the mapping tables resolved
    (as expressions, which keep the rows' order: see ``lookups.py``), with an error naming the line for a value none
    of them accepts, and the provenance columns."""
    provider = "coalesce(x_alias, trim(ServiceProviderName))"
    return f"""
        WITH norm AS ({normalised}),
        keyed AS (
            SELECT *,
                {case_map("lower(trim(ServiceProviderName))", lookups.aliases)} AS x_alias,
                upper(trim(BillingCurrency)) AS x_currency,
                lower(trim(ServiceCategory)) AS x_service_category,
                lower(trim(x_ServiceKey)) AS x_service_key,
                lower(trim(ChargeCategory)) AS x_charge_category,
                lower(trim(x_ChargeType)) AS x_charge_type,
                lower(trim(x_PricingModel)) AS x_pricing
            FROM norm
        ),
        looked AS (
            SELECT *,
                {lookups.currency("x_currency")} AS x_currency_code,
                {case_map("x_service_category", lookups.service_categories)} AS x_sc,
                {by_provider(provider, "x_service_key", lookups.service_map)} AS x_scm,
                {case_map("x_charge_category", lookups.charge_categories)} AS x_cc,
                {by_provider(provider, "x_charge_type", lookups.charge_map)} AS x_ccm,
                {by_provider(provider, "x_charge_type", lookups.charge_class_map)} AS x_ccm_class,
                {by_provider(provider, "x_pricing", lookups.pricing_map)} AS x_pcm
            FROM keyed
        ),
        resolved AS (
            SELECT n.* EXCLUDE (ServiceProviderName, BillingCurrency, ServiceCategory, ChargeCategory,
                                ChargeClass, PricingCategory, x_ServiceKey, x_ChargeType, x_PricingModel,
                                x_ExportTime, x_alias, x_currency, x_service_category, x_service_key,
                                x_charge_category, x_charge_type, x_pricing, x_currency_code, x_sc, x_scm, x_cc,
                                x_ccm, x_ccm_class, x_pcm),
                {provider} AS ServiceProviderName,
                CASE WHEN x_currency_code IS NULL THEN error(format(
                        'line {{}}, column "BillingCurrency": "{{}}" is not an ISO 4217 currency code '
                        '(expected e.g. USD, EUR, CAD)', n.x_line, n.BillingCurrency))
                     ELSE x_currency_code END AS BillingCurrency,
                CASE WHEN n.ServiceCategory IS NOT NULL THEN 'file' WHEN x_scm IS NOT NULL
                     THEN 'map' ELSE 'default' END AS x_CategorySource,
                CASE WHEN n.ServiceCategory IS NULL THEN coalesce(x_scm, 'Other')
                     WHEN x_sc IS NULL THEN error(format(
                        'line {{}}, column "ServiceCategory": "{{}}" is not a FOCUS 1.2 service category',
                        n.x_line, n.ServiceCategory))
                     ELSE x_sc END AS ServiceCategory,
                CASE WHEN n.ChargeCategory IS NOT NULL AND x_cc IS NULL THEN error(format(
                        'line {{}}, column "ChargeCategory": "{{}}" is not a FOCUS charge category '
                        '(expected Usage, Purchase, Tax, Credit or Adjustment)', n.x_line, n.ChargeCategory))
                     WHEN n.ChargeCategory IS NOT NULL THEN x_cc
                     WHEN x_ccm IS NULL THEN error(format(
                        'line {{}}: charge type "{{}}" is not in sql/seed/charge_category_map.csv for {{}}; '
                        'add it there', n.x_line, n.x_ChargeType, coalesce(x_alias, n.ServiceProviderName)))
                     ELSE x_ccm END AS ChargeCategory,
                coalesce(n.ChargeClass, x_ccm_class) AS ChargeClass,
                coalesce(n.PricingCategory, x_pcm) AS PricingCategory,
                {export_time_sql(source)} AS x_ExportTime
            FROM looked n
        )
        SELECT * EXCLUDE (x_line, x_file),
            x_line AS x_SourceLine, x_file AS x_SourceFile, {load_id} AS x_LoadId,
            {sql_string(plan.source_format or plan.format)} AS x_SourceFormat, {sql_string(plan.dataset)} AS x_Dataset,
            {replace_key_sql(plan, source)} AS x_ReplaceKey
        FROM resolved
    """


def _reader_sql(kind: str, path: Path, columns: tuple[str, ...], canonical: list[str], read_options: str,
                numbered: bool, strict: bool) -> str:
    file_literal = sql_string(str(path.resolve()))
    line = "row_number() OVER () + {}" if numbered else "0::BIGINT"  # (not NULL: error(NULL) would not raise)
    if kind == "csv":
        spec = "{" + ", ".join(f"{sql_string(name)}: 'VARCHAR'" for name in canonical) + "}"
        return (
            f"SELECT {line.format(1)} AS x_line, {file_literal} AS x_file, * FROM read_csv("
            f"{file_literal}, header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
            f"strict_mode = {str(strict).lower()}, nullstr = ['', 'NULL'], compression = 'auto', columns = {spec})"
        )
    renames = ", ".join(f"{quote_ident(orig)} AS {quote_ident(name)}"
                        for orig, name in zip(columns, canonical, strict=True))
    extra = f", {read_options}" if read_options else ""
    if kind == "parquet":
        return (f"SELECT file_row_number + 1 AS x_line, {file_literal} AS x_file, {renames} "
                f"FROM read_parquet({file_literal}, file_row_number = true{extra})")
    return (f"SELECT {line.format(0)} AS x_line, {file_literal} AS x_file, {renames} "
            f"FROM read_json({file_literal}, format = 'newline_delimited'{extra or ', sample_size = -1'})")


def _parsed_field(key: str, found: str | None, spec: Field, original: dict[str, str], blank_is_null: bool) -> str:
    """One field parsed by its checked macro. ``blank_is_null``: an empty text value is NULL, as in a CSV
    (Parquet writers such as AWS's write '' for a missing value)."""
    if found is None:
        return f"{_NULL_OF_KIND[spec.kind]} AS {quote_ident(key)}"
    label = sql_string(original.get(found, found))
    column = quote_ident(found)
    if spec.kind in _CHECKED_MACRO:
        expr = f"{_CHECKED_MACRO[spec.kind]}({column}, x_line, {label})"
    elif spec.kind == "text":
        expr = f"nullif(CAST({column} AS VARCHAR), '')" if blank_is_null else f"CAST({column} AS VARCHAR)"
    else:
        expr = column
    if spec.not_null:
        expr = f"ss_required({expr}, x_line, {label})"
    return f"{expr} AS {quote_ident(key)}"
