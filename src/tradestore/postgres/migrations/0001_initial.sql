-- tradestore schema 1: the four stores and the schedulers' heartbeats.
-- Every datetime is a timestamptz (compared and sorted) plus <name>_off, its UTC
-- offset in seconds, so values come back with the offset they were given.
-- Keys use the "C" collation, so SQL orders them as Python orders str.

CREATE FUNCTION tradestore.finite(x double precision) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT x > '-Infinity'::double precision AND x < 'Infinity'::double precision $$;
-- NaN sorts above every number in PostgreSQL, so "x < Infinity" refuses NaN too.

CREATE TABLE tradestore.tasks (
    task_id          text COLLATE "C" PRIMARY KEY,
    task_type        text COLLATE "C" NOT NULL CHECK (task_type <> ''),
    priority         text NOT NULL CHECK (priority IN ('critical', 'high', 'medium', 'low')),
    execute_at       timestamptz NOT NULL,
    execute_at_off   integer NOT NULL,
    interval_seconds double precision CHECK (interval_seconds > 0 AND tradestore.finite(interval_seconds)),
    max_retries      bigint NOT NULL CHECK (max_retries >= 0),
    retry_count      bigint NOT NULL CHECK (retry_count >= 0),
    last_executed    timestamptz,
    last_executed_off integer,
    next_execution   timestamptz,
    next_execution_off integer,
    is_active        boolean NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    last_error       text,
    metadata         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    history          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(history) = 'array'),
    lease_owner      text COLLATE "C",
    lease_expires_at timestamptz,
    lease_expires_at_off integer,
    lease_token      bigint NOT NULL DEFAULT 0 CHECK (lease_token >= 0),
    priority_rank    smallint GENERATED ALWAYS AS (
        CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END
    ) STORED,
    run_at           timestamptz GENERATED ALWAYS AS (COALESCE(next_execution, execute_at)) STORED
);
-- due_tasks: active pending tasks by priority, run time, id.
CREATE INDEX tasks_due ON tradestore.tasks (priority_rank, run_at, task_id)
    WHERE is_active AND status = 'pending';
CREATE INDEX tasks_type ON tradestore.tasks (task_type, task_id);

CREATE TABLE tradestore.scheduler_heartbeats (
    scheduler_id     text COLLATE "C" PRIMARY KEY,
    host             text NOT NULL,
    pid              bigint NOT NULL,
    started_at       timestamptz NOT NULL,
    started_at_off   integer NOT NULL,
    last_beat        timestamptz NOT NULL,
    last_beat_off    integer NOT NULL,
    interval_seconds double precision NOT NULL CHECK (tradestore.finite(interval_seconds)),
    running          text[] NOT NULL DEFAULT '{}',
    stopped_at       timestamptz,
    stopped_at_off   integer
);
CREATE INDEX scheduler_heartbeats_last_beat ON tradestore.scheduler_heartbeats (last_beat DESC);

CREATE TABLE tradestore.stock_state (
    symbol                     text COLLATE "C" PRIMARY KEY,
    last_news_check            date,
    last_earnings_check        date,
    last_fundamentals_check    date,
    last_portfolio_update      timestamptz,
    last_portfolio_update_off  integer,
    last_analysis_check        timestamptz,
    last_analysis_check_off    integer,
    last_news_checked_at       timestamptz,   -- when the last check was recorded: breaks
    last_news_checked_at_off   integer,       -- ties among equal dates (oldest first)
    last_earnings_checked_at   timestamptz,
    last_earnings_checked_at_off integer,
    last_fundamentals_checked_at timestamptz,
    last_fundamentals_checked_at_off integer,
    needs_fundamentals_recheck boolean NOT NULL DEFAULT false,
    fetch_count                bigint NOT NULL DEFAULT 0 CHECK (fetch_count >= 0),
    error_count                bigint NOT NULL DEFAULT 0 CHECK (error_count >= 0),
    updated_at                 timestamptz NOT NULL,
    updated_at_off             integer NOT NULL
);
-- The "oldest checked" queries rank the symbols they are given: primary-key
-- lookups. These serve a whole-table "never or longest ago" scan.
CREATE INDEX stock_state_news ON tradestore.stock_state (last_news_check NULLS FIRST, symbol);
CREATE INDEX stock_state_earnings ON tradestore.stock_state (last_earnings_check NULLS FIRST, symbol);
CREATE INDEX stock_state_fundamentals ON tradestore.stock_state (last_fundamentals_check NULLS FIRST, symbol);

CREATE TABLE tradestore.strategy_logs (
    strategy_type       text COLLATE "C" NOT NULL,
    date                date NOT NULL,
    what_worked         text[] NOT NULL DEFAULT '{}',
    what_didnt_work     text[] NOT NULL DEFAULT '{}',
    tomorrows_focus     text[] NOT NULL DEFAULT '{}',
    market_observations text[] NOT NULL DEFAULT '{}',
    trades_executed     bigint NOT NULL CHECK (trades_executed >= 0),
    wins                bigint NOT NULL CHECK (wins >= 0),
    losses              bigint NOT NULL CHECK (losses >= 0),
    pnl_realized        double precision NOT NULL CHECK (tradestore.finite(pnl_realized)),
    token_usage         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(token_usage) = 'object'),
    metadata            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at          timestamptz NOT NULL,
    created_at_off      integer NOT NULL,
    updated_at          timestamptz NOT NULL,
    updated_at_off      integer NOT NULL,
    PRIMARY KEY (strategy_type, date)   -- period queries: one index range scan
);
CREATE INDEX strategy_logs_date ON tradestore.strategy_logs (date);  -- prune

CREATE TABLE tradestore.fundamental_snapshots (
    symbol          text COLLATE "C" NOT NULL,
    as_of           date NOT NULL,
    source          text NOT NULL,
    fetched_at      timestamptz NOT NULL,
    fetched_at_off  integer NOT NULL,
    pe_ratio        double precision CHECK (tradestore.finite(pe_ratio)),
    pb_ratio        double precision CHECK (tradestore.finite(pb_ratio)),
    eps             double precision CHECK (tradestore.finite(eps)),
    revenue         double precision CHECK (tradestore.finite(revenue)),
    revenue_growth  double precision CHECK (tradestore.finite(revenue_growth)),
    profit_margin   double precision CHECK (tradestore.finite(profit_margin)),
    roe             double precision CHECK (tradestore.finite(roe)),
    debt_to_equity  double precision CHECK (tradestore.finite(debt_to_equity)),
    market_cap      double precision CHECK (tradestore.finite(market_cap)),
    dividend_yield  double precision CHECK (tradestore.finite(dividend_yield)),
    extra           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object'),
    PRIMARY KEY (symbol, as_of)   -- latest and history by as_of
);

CREATE TABLE tradestore.earnings_reports (
    symbol             text COLLATE "C" NOT NULL,
    fiscal_period      text COLLATE "C" NOT NULL,
    report_date        date NOT NULL,
    eps_actual         double precision CHECK (tradestore.finite(eps_actual)),
    eps_estimate       double precision CHECK (tradestore.finite(eps_estimate)),
    revenue_actual     double precision CHECK (tradestore.finite(revenue_actual)),
    revenue_estimate   double precision CHECK (tradestore.finite(revenue_estimate)),
    next_earnings_date date,
    extra              jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object'),
    PRIMARY KEY (symbol, fiscal_period)
);
CREATE INDEX earnings_reports_date ON tradestore.earnings_reports (symbol, report_date, fiscal_period);

CREATE TABLE tradestore.news_items (
    id               text COLLATE "C" PRIMARY KEY,
    symbol           text COLLATE "C" NOT NULL,
    title            text NOT NULL,
    summary          text NOT NULL,
    url              text NOT NULL,
    source           text NOT NULL,
    published_at     timestamptz NOT NULL,
    published_at_off integer NOT NULL,
    sentiment        double precision CHECK (sentiment >= -1 AND sentiment <= 1),
    is_material      boolean NOT NULL,
    extra            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object')
);
-- get_news newest first, for one symbol or all; prune by publication time.
CREATE INDEX news_items_symbol ON tradestore.news_items (symbol, published_at DESC, id);
CREATE INDEX news_items_published ON tradestore.news_items (published_at DESC, id);

CREATE TABLE tradestore.fundamental_analyses (
    symbol          text COLLATE "C" NOT NULL,
    analyzed_at     timestamptz NOT NULL,
    analyzed_at_off integer NOT NULL,
    recommendation  text NOT NULL CHECK (recommendation IN ('buy', 'hold', 'sell')),
    confidence      double precision NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    fair_value      double precision CHECK (tradestore.finite(fair_value)),
    summary         text NOT NULL,
    scores          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(scores) = 'object'),
    extra           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object'),
    PRIMARY KEY (symbol, analyzed_at)
);
