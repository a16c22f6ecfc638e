"""DuckDB's errors turned into one line that names the line and says what was expected."""

from __future__ import annotations

import duckdb
import pytest

from etl.billing.errors import describe_duckdb_error, with_file


def duckdb_error(tmp_path, text: str, name: str = "f.csv") -> duckdb.Error:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(duckdb.Error) as caught:
        duckdb.connect().execute("SELECT * FROM read_csv(?, header = true, auto_detect = false, delim = ',', "
                                 "quote = '\"', escape = '\"', strict_mode = true, "
                                 "columns = {'a': 'VARCHAR', 'b': 'VARCHAR'})", [str(path)]).fetchall()
    return caught.value


def test_a_ragged_row_names_its_line_and_the_field_counts(tmp_path):
    assert describe_duckdb_error(duckdb_error(tmp_path, "a,b\n1,2\n3,4,5\n")) == (
        "line 3: expected 2 fields as in the header, found 3 (ragged row)")


def test_an_unterminated_quote_names_its_line(tmp_path):
    assert describe_duckdb_error(duckdb_error(tmp_path, 'a,b\n1,2\n"3,4\n5,6\n')) == (
        "line 3: a quoted value is never closed (unterminated quote)")


def test_a_checked_macro_error_passes_through_without_duckdbs_prefix():
    with pytest.raises(duckdb.Error) as caught:
        duckdb.connect().execute("SELECT error('line 7, column \"X\": \"y\" is not a number')").fetchall()
    assert describe_duckdb_error(caught.value) == 'line 7, column "X": "y" is not a number'


def test_the_file_is_named_once():
    assert with_file("/x/f.csv", "line 2: bad") == "/x/f.csv: line 2: bad"
    assert with_file("/x/f.csv", "/x/f.csv: the file is empty") == "/x/f.csv: the file is empty"
