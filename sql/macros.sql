-- Parsing macros shared by every billing adapter. Each checked macro takes the value, the source line and
-- the source column name, returns the parsed value, and raises a clear error for a value it cannot parse,
-- so one bad cell rejects the whole file with a message naming line, column, value and expectation.

-- Timestamps: ISO 8601 with or without 'T', seconds, fractions and offset (naive means UTC), or
-- M/D/YYYY, M/D/YY and D.M.YYYY dates as Azure and the FOCUS spec examples write them. Result: naive UTC.
-- (A bare cast would read '4/1/25' as the year 4, so the ISO path is taken only for YYYY-... values.)
CREATE OR REPLACE MACRO ss_parse_ts(v) AS
    CASE
        WHEN substr(v::VARCHAR, 5, 1) = '-' THEN TRY_CAST(v AS TIMESTAMPTZ) AT TIME ZONE 'UTC'
        WHEN regexp_full_match(v::VARCHAR, '\d{1,2}/\d{1,2}/\d{4}')
            THEN try_strptime(v::VARCHAR, '%m/%d/%Y')
        WHEN regexp_full_match(v::VARCHAR, '\d{1,2}/\d{1,2}/\d{4} .+')
            THEN try_strptime(v::VARCHAR, ['%m/%d/%Y %H:%M:%S', '%m/%d/%Y %H:%M', '%m/%d/%Y %I:%M:%S %p',
                                           '%m/%d/%Y %I:%M %p'])
        WHEN regexp_full_match(v::VARCHAR, '\d{1,2}/\d{1,2}/\d{2}')
            THEN try_strptime(v::VARCHAR, '%m/%d/%y')
        WHEN regexp_full_match(v::VARCHAR, '\d{1,2}\.\d{1,2}\.\d{4}')
            THEN try_strptime(v::VARCHAR, '%d.%m.%Y')
    END;

CREATE OR REPLACE MACRO ss_ts_in_range(t) AS
    CASE WHEN t >= TIMESTAMP '1990-01-01' AND t < TIMESTAMP '2101-01-01' THEN t END;

-- A typed value (Parquet's TIMESTAMP, DATE, TIMESTAMPTZ) is cast, not parsed from its text: typeof() is a constant
-- when the macro is bound, so only one branch is left to run. coalesce evaluates its second argument only for the
-- rows whose first one is NULL, so the value is parsed once and the error branch costs nothing on good rows (the
-- same pattern in every checked macro below).
CREATE OR REPLACE MACRO ss_ts(v, line, col) AS
    coalesce(ss_ts_in_range(CASE WHEN typeof(v) IN ('TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS', 'DATE')
                                      THEN TRY_CAST(v AS TIMESTAMP)
                                 WHEN typeof(v) = 'TIMESTAMP WITH TIME ZONE'
                                      THEN TRY_CAST(v AS TIMESTAMPTZ) AT TIME ZONE 'UTC'
                                 ELSE ss_parse_ts(v) END),
             CASE WHEN v IS NOT NULL
                  THEN error(format('line {}, column "{}": "{}" is not a date/time (expected ISO 8601 such as '
                                    '2025-06-10T14:00:00Z, or M/D/YYYY)', line, col, v::VARCHAR)) END);

-- Money and quantities: plain decimals or scientific notation, no thousands separators or symbols.
-- Typed values (DOUBLE costs in Parquet and JSON) go through their shortest text form: a direct DOUBLE to
-- DECIMAL(38,12) cast is off by up to 1e-12 for large values (38275.123457 -> 38275.123456999999).
CREATE OR REPLACE MACRO ss_num(v, line, col) AS
    coalesce(TRY_CAST(v::VARCHAR AS DECIMAL(38, 12)),
             CASE WHEN v IS NOT NULL
                  THEN error(format('line {}, column "{}": "{}" is not a number (expected a plain decimal such as '
                                    '12.5 or 1.2E-5)', line, col, v::VARCHAR)) END);

-- a x b of two DECIMAL(38, 12) values, rounded half away from zero to 12 decimals as a DECIMAL rescale rounds.
-- The exact product (DECIMAL(38, 24)) is cheap, but rescaling it is a 128-bit division that costs as much as
-- parsing the whole row. The DOUBLE product rounded to 12 decimals is the same result whenever it lies strictly
-- within half a unit of the 12th decimal of the exact product, which is checked in DECIMAL(38, 24); the rows where
-- it does not (near-ties, or products whose 12 decimals exceed DOUBLE's 16 digits) take the exact rescale.
-- Products of 10^13 or more, which DECIMAL(38, 24) cannot hold with margin, round b to 10 decimals first.
CREATE OR REPLACE MACRO ss_mul(a, b) AS
    CASE WHEN abs(a::DOUBLE * b::DOUBLE) >= 1e13
              THEN CAST(a * CAST(b AS DECIMAL(38, 10)) AS DECIMAL(38, 12))
         WHEN abs(a * b - CAST(a::DOUBLE * b::DOUBLE AS DECIMAL(38, 12))) < 0.0000000000005
              THEN CAST(a::DOUBLE * b::DOUBLE AS DECIMAL(38, 12))
         ELSE CAST(a * b AS DECIMAL(38, 12)) END;

-- A value the FOCUS contract requires (the column exists but this cell is empty).
CREATE OR REPLACE MACRO ss_required(v, line, col) AS
    coalesce(v, error(format('line {}, column "{}": empty, but every row needs a value', line, col)));

-- Key-value tags as JSON objects. Azure EA writes the object without its braces; accept both. Braced, a value
-- that parses as JSON is an object (a JSON text starting with '{' is one), so one parse validates it.
CREATE OR REPLACE MACRO ss_braced(v) AS
    CASE WHEN starts_with(ltrim(v::VARCHAR), '{') THEN v::VARCHAR ELSE '{' || v::VARCHAR || '}' END;

CREATE OR REPLACE MACRO ss_json_object(v, line, col) AS
    CASE
        WHEN v IS NULL OR trim(v::VARCHAR) IN ('', '{}', '[]') THEN NULL::JSON
        ELSE coalesce(TRY_CAST(ss_braced(v) AS JSON),
                      error(format('line {}, column "{}": "{}" is not a JSON object of tags (expected '
                                   '{{"key": "value"}} or "key": "value" pairs)', line, col, v::VARCHAR)))
    END;

-- A JSON object built from (key, value) pairs, skipping empty values; NULL when nothing is left.
CREATE OR REPLACE MACRO ss_tags_from_pairs(pairs) AS
    CASE
        WHEN len(list_filter(pairs, lambda p: p.v IS NOT NULL AND p.v <> '')) = 0 THEN NULL::JSON
        ELSE to_json(map_from_entries(list_transform(
                 list_filter(pairs, lambda p: p.v IS NOT NULL AND p.v <> ''), lambda p: {'key': p.k, 'value': p.v})))
    END;
