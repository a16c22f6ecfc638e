-- 0003: events and event studies. Dated announcements (the shipped catalog and the user's own events), the
-- day 0 of each event per ticker, and the stored results of `python -m etl eventstudy run`.
-- Written only by `python -m etl events ...`, `init` (catalog) and `eventstudy run`.

-- One row per announcement.
CREATE TABLE events (
    event_id       VARCHAR PRIMARY KEY,          -- readable slug, e.g. 'openai-google-cloud-2025'
    announced_at   TIMESTAMP NOT NULL,           -- UTC instant ('minute'); midnight of the date ('date')
    time_precision VARCHAR NOT NULL CHECK (time_precision IN ('minute', 'date')),
    market_time    VARCHAR NOT NULL CHECK (market_time IN ('pre', 'intraday', 'post', 'unknown')),
    headline       VARCHAR NOT NULL,
    companies      VARCHAR[],
    tickers        VARCHAR[] NOT NULL,           -- affected tickers (Yahoo symbols)
    providers      VARCHAR[] NOT NULL,           -- related ServiceProviderName values
    source_urls    VARCHAR[] NOT NULL,
    notes          VARCHAR,                      -- what was verified, and every doubt about the timing
    reported_moves MAP(VARCHAR, DOUBLE),         -- the media's headline move per ticker, as a fraction
    origin         VARCHAR NOT NULL CHECK (origin IN ('catalog', 'user')),
    added_at       TIMESTAMP NOT NULL,           -- UTC
    time_zone      VARCHAR                       -- IANA zone the time was given in ('minute' events)
);

-- How day 0 was decided for each event and ticker (listing exchange calendar; see etl/events/day0.py).
CREATE TABLE event_day0 (
    event_id VARCHAR NOT NULL,
    ticker   VARCHAR NOT NULL,
    calendar VARCHAR NOT NULL,                   -- ISO MIC of the ticker's listing calendar
    day0     DATE NOT NULL,                      -- a session of that calendar
    rule     VARCHAR NOT NULL,                   -- the instant used and why it maps to that session
    PRIMARY KEY (event_id, ticker)
);

CREATE SEQUENCE event_study_run_seq START 1;

-- One row per `eventstudy run`: what was asked and what happened.
CREATE TABLE event_study_runs (
    run_id      BIGINT PRIMARY KEY,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    parameters  JSON NOT NULL,                   -- model, returns kind, estimation, windows, benchmarks, ...
    events      VARCHAR[] NOT NULL,              -- event ids studied
    tickers     VARCHAR[] NOT NULL,              -- tickers studied (over all events)
    pairs       INTEGER NOT NULL,                -- event x ticker pairs asked for
    computed    INTEGER NOT NULL,                -- pairs with results
    excluded    INTEGER NOT NULL,                -- pairs the engine excluded (reason in event_study_exclusions)
    failed      INTEGER NOT NULL,                -- pairs without prices or benchmark (reasons in message)
    status      VARCHAR NOT NULL CHECK (status IN ('ok', 'failed')),
    message     VARCHAR
);

-- Per event, ticker and session of the path window (at least days -10..+10).
CREATE TABLE event_study_daily (
    event_id     VARCHAR NOT NULL,
    ticker       VARCHAR NOT NULL,
    benchmark    VARCHAR NOT NULL,
    model        VARCHAR NOT NULL,
    returns_kind VARCHAR NOT NULL,
    relative_day INTEGER NOT NULL,
    date         DATE NOT NULL,
    ret          DOUBLE,                         -- the ticker's return (adj_close, session to session)
    market_ret   DOUBLE,                         -- the benchmark's return on the same session
    ar           DOUBLE,
    car          DOUBLE,                         -- cumulated from the first day of the path window
    ar_t         DOUBLE,                         -- AR / s (time-series t, df T - 1)
    ar_t_p       DOUBLE,
    sar          DOUBLE,                         -- standardized AR (Patell)
    run_id       BIGINT NOT NULL,
    PRIMARY KEY (event_id, ticker, benchmark, model, returns_kind, relative_day)
);

-- Per event, ticker and event window.
CREATE TABLE event_study_results (
    event_id         VARCHAR NOT NULL,
    ticker           VARCHAR NOT NULL,
    benchmark        VARCHAR NOT NULL,
    model            VARCHAR NOT NULL,
    returns_kind     VARCHAR NOT NULL,
    "window"         VARCHAR NOT NULL,           -- '[-1,+1]'; an SQL keyword, so quote it: "window"
    window_start     DATE NOT NULL,
    window_end       DATE NOT NULL,
    days             INTEGER NOT NULL,           -- sessions of the window with an AR for this ticker
    car              DOUBLE,
    bhar             DOUBLE,
    scar             DOUBLE,
    car_t            DOUBLE,                     -- CAR / (s sqrt(days)), Student t df T - 1
    car_t_p          DOUBLE,
    stars            VARCHAR NOT NULL,           -- of car_t_p
    estimation_start DATE NOT NULL,
    estimation_end   DATE NOT NULL,
    T                INTEGER NOT NULL,
    alpha            DOUBLE,
    beta             DOUBLE,
    s                DOUBLE,
    r2               DOUBLE,
    start_day        INTEGER NOT NULL,
    end_day          INTEGER NOT NULL,
    day0             DATE NOT NULL,
    first_obs        DATE,                       -- first and last session of the estimation sample
    last_obs         DATE,
    run_id           BIGINT NOT NULL,
    PRIMARY KEY (event_id, ticker, benchmark, model, returns_kind, "window")
);

-- Cross-section of an event's tickers that share a benchmark, per event window.
CREATE TABLE event_study_cross (
    event_id                    VARCHAR NOT NULL,
    benchmark                   VARCHAR NOT NULL,
    model                       VARCHAR NOT NULL,
    returns_kind                VARCHAR NOT NULL,
    "window"                    VARCHAR NOT NULL,
    window_start                DATE NOT NULL,
    window_end                  DATE NOT NULL,
    n                           INTEGER NOT NULL,
    days                        INTEGER NOT NULL,
    caar                        DOUBLE,
    mean_daily_aar              DOUBLE,
    mean_bhar                   DOUBLE,
    car_t_test                  DOUBLE,
    car_brown_warner_1985       DOUBLE,
    car_patell                  DOUBLE,
    car_bmp                     DOUBLE,
    car_rank                    DOUBLE,
    car_t_test_p                DOUBLE,
    car_brown_warner_1985_p     DOUBLE,
    car_patell_p                DOUBLE,
    car_bmp_p                   DOUBLE,
    car_rank_p                  DOUBLE,
    car_t_test_stars            VARCHAR NOT NULL,
    car_brown_warner_1985_stars VARCHAR NOT NULL,
    car_patell_stars            VARCHAR NOT NULL,
    car_bmp_stars               VARCHAR NOT NULL,
    car_rank_stars              VARCHAR NOT NULL,
    start_day                   INTEGER NOT NULL,
    end_day                     INTEGER NOT NULL,
    day0                        DATE NOT NULL,
    tickers                     VARCHAR[] NOT NULL,  -- the included tickers
    run_id                      BIGINT NOT NULL,
    PRIMARY KEY (event_id, benchmark, model, returns_kind, day0, "window")
);

-- Cross-section per event-period session.
CREATE TABLE event_study_cross_daily (
    event_id                VARCHAR NOT NULL,
    benchmark               VARCHAR NOT NULL,
    model                   VARCHAR NOT NULL,
    returns_kind            VARCHAR NOT NULL,
    relative_day            INTEGER NOT NULL,
    date                    DATE NOT NULL,
    n                       INTEGER NOT NULL,
    aar                     DOUBLE,
    t_test                  DOUBLE,
    brown_warner_1980       DOUBLE,
    brown_warner_1985       DOUBLE,
    patell                  DOUBLE,
    bmp                     DOUBLE,
    sign                    DOUBLE,
    generalized_sign        DOUBLE,
    rank                    DOUBLE,
    wilcoxon                DOUBLE,
    bmp_kp                  DOUBLE,
    t_test_p                DOUBLE,
    brown_warner_1980_p     DOUBLE,
    brown_warner_1985_p     DOUBLE,
    patell_p                DOUBLE,
    bmp_p                   DOUBLE,
    sign_p                  DOUBLE,
    generalized_sign_p      DOUBLE,
    rank_p                  DOUBLE,
    wilcoxon_p              DOUBLE,
    bmp_kp_p                DOUBLE,
    t_test_stars            VARCHAR NOT NULL,
    brown_warner_1980_stars VARCHAR NOT NULL,
    brown_warner_1985_stars VARCHAR NOT NULL,
    patell_stars            VARCHAR NOT NULL,
    bmp_stars               VARCHAR NOT NULL,
    sign_stars              VARCHAR NOT NULL,
    generalized_sign_stars  VARCHAR NOT NULL,
    rank_stars              VARCHAR NOT NULL,
    wilcoxon_stars          VARCHAR NOT NULL,
    bmp_kp_stars            VARCHAR NOT NULL,
    day0                    DATE NOT NULL,
    run_id                  BIGINT NOT NULL,
    PRIMARY KEY (event_id, benchmark, model, returns_kind, day0, relative_day)
);

-- Tickers the engine left out of an event, with its reason (never silently dropped).
CREATE TABLE event_study_exclusions (
    event_id     VARCHAR NOT NULL,
    ticker       VARCHAR NOT NULL,
    benchmark    VARCHAR NOT NULL,
    model        VARCHAR NOT NULL,
    reason       VARCHAR NOT NULL,
    returns_kind VARCHAR NOT NULL,
    run_id       BIGINT NOT NULL,
    PRIMARY KEY (event_id, ticker, benchmark, model, returns_kind)
);

-- Pairs of events of the same ticker whose windows overlap (kind 'event_period' or 'estimation').
CREATE TABLE event_study_overlaps (
    ticker         VARCHAR NOT NULL,
    event_id       VARCHAR NOT NULL,
    other_event_id VARCHAR NOT NULL,
    kind           VARCHAR NOT NULL,
    overlap_start  DATE NOT NULL,
    overlap_end    DATE NOT NULL,
    run_id         BIGINT NOT NULL,
    PRIMARY KEY (ticker, event_id, other_event_id, kind)
);
