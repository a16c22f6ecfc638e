"""Which tickers SpendScope follows, read from the settings (see README "Market data")."""

from __future__ import annotations

from datetime import date

from etl.config import SETTINGS, Config

_DEFAULT_PROVIDER_TICKERS: dict[str, str] = next(s.default for s in SETTINGS if s.key == "providers.tickers")


class MarketSettingsError(ValueError):
    """A market setting has a value the commands cannot use; the message names the setting."""


def provider_tickers(config: Config) -> dict[str, str]:
    """ServiceProviderName -> ticker of the provider's listed parent (setting ``providers.tickers`` merged over
    the defaults; an empty value drops a provider). Used by the dashboard and the event studies."""
    merged = {**_DEFAULT_PROVIDER_TICKERS, **config.get("providers.tickers")}
    return {provider: ticker.strip().upper() for provider, ticker in merged.items() if ticker.strip()}


def configured_tickers(config: Config) -> list[str]:
    """``market.tickers``, then the providers' tickers, then ``market.benchmarks``; upper-case, no repeats."""
    found: dict[str, None] = {}
    for ticker in [*config.get("market.tickers"), *provider_tickers(config).values(),
                   *config.get("market.benchmarks")]:
        if ticker.strip():
            found.setdefault(ticker.strip().upper(), None)
    return list(found)


def market_start(config: Config) -> date:
    text = config.get("market.start")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise MarketSettingsError(f"setting market.start: {text!r} is not a date (expected YYYY-MM-DD)") from None


def overlap_days(config: Config) -> int:
    days = config.get("market.overlap_days")
    if days < 0:
        raise MarketSettingsError(f"setting market.overlap_days: expected 0 or more days, got {days}")
    return days


def max_backoff_minutes(config: Config) -> float:
    minutes = config.get("market.max_backoff_minutes")
    if minutes < 0:
        raise MarketSettingsError(f"setting market.max_backoff_minutes: expected 0 or more, got {minutes:g}")
    return minutes
