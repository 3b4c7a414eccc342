"""Settings read once from `AFTERGLOW_*` environment variables (see docs/settings.md); admins may change the shop's
own in the browser, stored over these (afterglow/overrides.py)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str = "") -> str:
    return os.environ.get(f"AFTERGLOW_{name}", default)


def _int(name: str, default: int) -> int:
    raw = _env(name)
    return int(raw) if raw else default


def _hour(name: str, default: int) -> int:
    hour = _int(name, default)
    if not 0 <= hour <= 23:
        raise RuntimeError(f"AFTERGLOW_{name} must be an hour from 0 to 23, not {hour}")
    return hour


def _category_delays(raw: str) -> dict[str, int]:
    """Parse `furniture=14,food=1` into {category: days}."""
    delays: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, _, days = part.partition("=")
        delays[name.strip().lower()] = int(days)
    return delays


def _names(raw: str) -> tuple[str, ...]:
    """Parse `profanity, link` into ("profanity", "link")."""
    return tuple(filter(None, (p.strip().lower() for p in raw.split(","))))


def _hosts(raw: str) -> tuple[str, ...]:
    """Parse `hooks.internal,10.0.0.5:8080` into lower-case entries, refusing one that is not a host[:port]."""
    hosts = []
    for entry in filter(None, (p.strip().lower() for p in raw.split(","))):
        try:
            parts = urlsplit(f"//{entry}")
            valid = bool(parts.hostname) and (parts.port or 0) >= 0 and not entry.endswith(":")
        except ValueError:  # a port that is not a number from 0 to 65535
            valid = False
        if not valid or any(ch in entry for ch in "/?#@ "):
            raise RuntimeError(f"AFTERGLOW_WEBHOOK_ALLOWED_HOSTS: {entry!r} is not a host or host:port")
        hosts.append(entry)
    return tuple(hosts)


def _proxies(raw: str) -> tuple[str, ...]:
    """Parse `10.0.0.5,172.18.0.0/16` (or `*`: any peer, when only the proxy can reach the app)."""
    proxies = []
    for entry in filter(None, (p.strip() for p in raw.split(","))):
        if entry != "*":
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise RuntimeError(f"AFTERGLOW_TRUSTED_PROXIES: {entry!r} is not an IP address or network") from None
        proxies.append(entry)
    return tuple(proxies)


@dataclass(frozen=True)
class Settings:
    env: str = "dev"
    data_dir: Path = ROOT / "var"
    database_url: str = ""
    broker_url: str = ""
    secret_key: str = "dev-secret-change-me"
    api_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    shop_name: str = "Demo Shop"
    shop_timezone: str = "UTC"
    # The shop's brand on customers' pages and emails (docs/settings.md); the logo is uploaded in the browser.
    brand_colour: str = ""
    logo_file: str = ""
    shopify_secret: str = ""
    woocommerce_secret: str = ""
    # The WooCommerce order status that means delivered (shipment-tracking plugins add one); "" for none.
    woocommerce_delivered_status: str = "delivered"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_tls: bool = False
    # SMTP connections a worker sends a batch of invitations over at once (one message handed over at a time).
    smtp_connections: int = 4
    mail_from: str = "Afterglow <feedback@afterglow.localhost>"
    default_delay_days: int = 3
    category_delays: dict[str, int] = field(default_factory=dict)
    send_window_start: int = 9
    send_window_end: int = 18
    fatigue_days: int = 60
    expiry_days: int = 30
    reminder_days: int = 4
    link_max_age_days: int = 90
    support_delay_hours: int = 3
    # Team notifications: the local hour (shop time zone) of the daily digest; outgoing webhook timeout and attempts.
    digest_hour: int = 8
    webhook_timeout_seconds: int = 10
    webhook_max_attempts: int = 8
    # Internal hosts (`name` or `name:port`) that team webhooks may reach; every other non-public address is refused.
    webhook_allowed_hosts: tuple[str, ...] = ()
    db_pool_size: int = 10
    db_read_connections: int = 8
    worker_db_pool_size: int = 2
    # Rate limits (0 turns one off): sign-in failures per account per window, and per-minute request counts.
    rate_sign_in_failures: int = 5
    rate_sign_in_window_minutes: int = 15
    rate_sign_in_per_address: int = 20
    rate_link_per_link: int = 60
    rate_link_per_address: int = 300
    rate_api_per_key: int = 600
    rate_webhooks_per_address: int = 1200
    rate_public_per_address: int = 1200
    rate_votes_per_address: int = 30
    rate_suggestions_per_address: int = 5
    # Proxies (addresses or networks) whose X-Forwarded-For/-Proto uvicorn believes; from anyone else they are ignored.
    trusted_proxies: tuple[str, ...] = ()
    suggestion_max_chars: int = 5000
    review_photo_max_bytes: int = 10_000_000
    # Photos with more pixels are refused from their header; at most this many are decoded at once per process.
    review_photo_max_pixels: int = 50_000_000
    review_photo_decoders: int = 2
    # Which content rules hold a review for a person (reviews/policy.py); the others publish it at once.
    review_hold_rules: tuple[str, ...] = ("profanity", "email", "link", "phone", "all_caps")
    # Emails that SMTP refuses are retried with growing pauses (at most this long between two tries).
    mail_retries: int = 8
    mail_retry_backoff_max: int = 600
    # Replies to customers: plus-addressed Reply-To (`replies@shop.example` → `replies+<thread>@shop.example`),
    # the Bearer secret of the inbound-email webhook, and customer answers per conversation link per hour.
    reply_address: str = ""
    inbound_secret: str = ""
    rate_answers_per_link: int = 20
    log_format: str = "text"  # text | json
    topics_file: str = ""  # JSON topics and keywords replacing the defaults (docs/topics.md)
    #: Topics and keywords saved in the browser (over the file's or the defaults); None: not changed there.
    topic_keywords: dict[str, dict[str, tuple[str, ...]]] | None = None
    shop_languages: tuple[str, ...] = ("en", "de", "hu")  # the languages customers are served in
    default_language: str = "en"  # for a customer whose locale is not among them
    log_level: str = "INFO"

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def dev_outbox(self) -> bool:
        """Mail goes to the dev outbox (and `/dev/outbox` exists) only in the embedded default."""
        return not self.production and not self.smtp_host

    @property
    def dev_api_key_file(self) -> Path:
        """Where `afterglow run` keeps the API key it invents in the embedded default."""
        return self.data_dir / "dev-api-key"

    @property
    def dev_base_url_file(self) -> Path:
        """Where `afterglow run` notes its address in the embedded default, for commands run beside it."""
        return self.data_dir / "dev-base-url"

    @property
    def photo_folder(self) -> Path:
        return self.data_dir / "review-photos"

    @property
    def brand_folder(self) -> Path:
        return self.data_dir / "brand"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "afterglow.sqlite3"

    @property
    def broker_folder(self) -> Path:
        return self.data_dir / "broker"


def load() -> Settings:
    env = _env("ENV", "dev")
    data_dir = Path(_env("DATA_DIR", str(ROOT / "var")))
    secret = _env("SECRET_KEY")
    if env == "production" and not secret:
        raise RuntimeError("AFTERGLOW_SECRET_KEY must be set when AFTERGLOW_ENV=production")
    return Settings(
        env=env,
        data_dir=data_dir,
        database_url=_env("DATABASE_URL"),
        broker_url=_env("BROKER_URL", "redis://127.0.0.1:6379/0" if env == "production" else ""),
        secret_key=secret or "dev-secret-change-me",
        api_key=_env("API_KEY"),
        base_url=_env("BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        shop_name=_env("SHOP_NAME", "Demo Shop"),
        shop_timezone=_env("SHOP_TIMEZONE", "UTC"),
        brand_colour=_env("BRAND_COLOUR").strip(),
        shopify_secret=_env("SHOPIFY_SECRET"),
        woocommerce_secret=_env("WOOCOMMERCE_SECRET"),
        woocommerce_delivered_status=_env("WOOCOMMERCE_DELIVERED_STATUS", "delivered")
        .strip()
        .lower()
        .removeprefix("wc-"),
        smtp_host=_env("SMTP_HOST"),
        smtp_port=_int("SMTP_PORT", 25),
        smtp_user=_env("SMTP_USER"),
        smtp_password=_env("SMTP_PASSWORD"),
        smtp_tls=_env("SMTP_TLS") in {"1", "true", "yes"},
        smtp_connections=max(1, _int("SMTP_CONNECTIONS", 4)),
        mail_from=_env("MAIL_FROM", "Afterglow <feedback@afterglow.localhost>"),
        default_delay_days=_int("DEFAULT_DELAY_DAYS", 3),
        category_delays=_category_delays(_env("CATEGORY_DELAYS")),
        send_window_start=_int("SEND_WINDOW_START", 9),
        send_window_end=_int("SEND_WINDOW_END", 18),
        fatigue_days=_int("FATIGUE_DAYS", 60),
        expiry_days=_int("EXPIRY_DAYS", 30),
        reminder_days=_int("REMINDER_DAYS", 4),
        link_max_age_days=_int("LINK_MAX_AGE_DAYS", 90),
        support_delay_hours=_int("SUPPORT_DELAY_HOURS", 3),
        digest_hour=_hour("DIGEST_HOUR", 8),
        webhook_timeout_seconds=max(1, _int("WEBHOOK_TIMEOUT_SECONDS", 10)),
        webhook_max_attempts=max(1, _int("WEBHOOK_MAX_ATTEMPTS", 8)),
        webhook_allowed_hosts=_hosts(_env("WEBHOOK_ALLOWED_HOSTS")),
        db_pool_size=_int("DB_POOL_SIZE", 10),
        db_read_connections=_int("DB_READ_CONNECTIONS", 8),
        worker_db_pool_size=_int("WORKER_DB_POOL_SIZE", 2),
        rate_sign_in_failures=_int("RATE_SIGN_IN_FAILURES", 5),
        rate_sign_in_window_minutes=_int("RATE_SIGN_IN_WINDOW_MINUTES", 15),
        rate_sign_in_per_address=_int("RATE_SIGN_IN_PER_ADDRESS", 20),
        rate_link_per_link=_int("RATE_LINK_PER_LINK", 60),
        rate_link_per_address=_int("RATE_LINK_PER_ADDRESS", 300),
        rate_api_per_key=_int("RATE_API_PER_KEY", 600),
        rate_webhooks_per_address=_int("RATE_WEBHOOKS_PER_ADDRESS", 1200),
        rate_public_per_address=_int("RATE_PUBLIC_PER_ADDRESS", 1200),
        rate_votes_per_address=_int("RATE_VOTES_PER_ADDRESS", 30),
        rate_suggestions_per_address=_int("RATE_SUGGESTIONS_PER_ADDRESS", 5),
        trusted_proxies=_proxies(_env("TRUSTED_PROXIES")),
        suggestion_max_chars=max(1, _int("SUGGESTION_MAX_CHARS", 5000)),
        review_photo_max_bytes=_int("REVIEW_PHOTO_MAX_BYTES", 10_000_000),
        review_photo_max_pixels=max(1, _int("REVIEW_PHOTO_MAX_PIXELS", 50_000_000)),
        review_photo_decoders=max(1, _int("REVIEW_PHOTO_DECODERS", 2)),
        review_hold_rules=_names(_env("REVIEW_HOLD_RULES", ",".join(Settings.review_hold_rules))),
        mail_retries=max(0, _int("MAIL_RETRIES", 8)),
        mail_retry_backoff_max=max(1, _int("MAIL_RETRY_BACKOFF_MAX", 600)),
        reply_address=_env("REPLY_ADDRESS").strip(),
        inbound_secret=_env("INBOUND_SECRET"),
        rate_answers_per_link=_int("RATE_ANSWERS_PER_LINK", 20),
        log_format=_env("LOG_FORMAT", "json" if env == "production" else "text"),
        topics_file=_env("TOPICS_FILE").strip(),
        log_level=_env("LOG_LEVEL", "INFO"),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load()
