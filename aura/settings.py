"""AURA settings: one module, read from the environment (see the README's configuration table).

Unset DATABASE_URL / REDIS_URL mean the embedded PostgreSQL and Redis of `aura.embedded`.
"""

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from aura import embedded
from aura.env import Env, celery_broker_url, check_redis_url, database_config

env = Env()
BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env.bool("DEBUG", default=False)
# Set by manage.py for file-to-stdout commands (parse_swaps, pnl, score_signals, render_alert) that need no
# serving secrets.
OFFLINE_COMMAND = env.bool("AURA_OFFLINE_COMMAND", default=False)
if DEBUG or OFFLINE_COMMAND:
    SECRET_KEY = env.str("SECRET_KEY") or "dev-only-insecure-key-do-not-use-in-production"
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
else:
    SECRET_KEY = env.required("SECRET_KEY", "when DEBUG is off (use a long random string)")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off (comma-separated host names).")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])

DATABASE_URL = env.str("DATABASE_URL") or embedded.database_url()
# The Procfiles give the web process a pool; one-shot commands and tests connect directly.
DATABASE_POOL_SIZE = env.int("DATABASE_POOL_SIZE", 0, minimum=0)
DATABASES = {"default": database_config(DATABASE_URL, pool_size=DATABASE_POOL_SIZE)}
REDIS_URL = check_redis_url(env.str("REDIS_URL") or embedded.redis_url())

HELIUS_API_KEY = env.str("HELIUS_API_KEY", "")
HELIUS_BASE_URL = env.http_url("HELIUS_BASE_URL", "https://api-mainnet.helius-rpc.com")
HELIUS_WEBHOOK_SECRET = env.str("HELIUS_WEBHOOK_SECRET", "")
BIRDEYE_API_KEY = env.str("BIRDEYE_API_KEY", "")
BIRDEYE_BASE_URL = env.http_url("BIRDEYE_BASE_URL", "https://public-api.birdeye.so")
DEXSCREENER_BASE_URL = env.http_url("DEXSCREENER_BASE_URL", "https://api.dexscreener.com")
SENTRY_DSN = env.str("SENTRY_DSN", "")

# Ingestion. Webhooks are the primary path; polling is the safety net, budgeted in credits.
HELIUS_WEBHOOK_URL = env.http_url(
    "HELIUS_WEBHOOK_URL", f"http://127.0.0.1:{env.int('PORT', 8000)}/hooks/helius/", base=False
)
HELIUS_RATE_PER_SECOND = env.float("HELIUS_RATE_PER_SECOND", 2.0)
HELIUS_HISTORY_BEFORE_PARAM = env.str("HELIUS_HISTORY_BEFORE_PARAM", "before-signature")
HELIUS_TIMEOUT_SECONDS = env.float("HELIUS_TIMEOUT_SECONDS", 10.0, minimum=0.1)
POLL_ACTIVE_SECONDS = env.int("POLL_ACTIVE_SECONDS", 120, minimum=5)
POLL_DORMANT_SECONDS = env.int("POLL_DORMANT_SECONDS", 1800, minimum=5)
POLL_ACTIVE_WITHIN_HOURS = env.int("POLL_ACTIVE_WITHIN_HOURS", 24, minimum=1)
POLL_CREDITS_PER_DAY = env.int("POLL_CREDITS_PER_DAY", 300_000, minimum=0)
BACKFILL_DAYS = env.int("BACKFILL_DAYS", 30, minimum=0)
BACKFILL_PAGES_PER_TASK = env.int("BACKFILL_PAGES_PER_TASK", 10, minimum=1)

# Live pages: every socket gets a heartbeat; a page hearing nothing for 2.5 of them reconnects.
LIVE_HEARTBEAT_SECONDS = env.float("LIVE_HEARTBEAT_SECONDS", 15.0, minimum=0.2)

# The API's WebSocket (aura/stream.py): events kept per group for phones that reconnect, and for how long.
API_STREAM_KEEP = env.int("API_STREAM_KEEP", 1000, minimum=10)
API_STREAM_TTL_SECONDS = env.int("API_STREAM_TTL_SECONDS", 24 * 3600, minimum=60)
# How long a socket may stay silent before its first message authenticates it.
API_STREAM_AUTH_SECONDS = env.float("API_STREAM_AUTH_SECONDS", 10.0, minimum=0.1)

# Prices: Birdeye first, DexScreener and Jupiter as fallbacks.
PRICE_REFRESH_SECONDS = env.int("PRICE_REFRESH_SECONDS", 30, minimum=5)
BIRDEYE_RATE_PER_SECOND = env.float("BIRDEYE_RATE_PER_SECOND", 1.0)
BIRDEYE_TIMEOUT_SECONDS = env.float("BIRDEYE_TIMEOUT_SECONDS", 10.0, minimum=0.1)
DEXSCREENER_RATE_PER_SECOND = env.float("DEXSCREENER_RATE_PER_SECOND", 5.0)  # 300 a minute
DEXSCREENER_TIMEOUT_SECONDS = env.float("DEXSCREENER_TIMEOUT_SECONDS", 10.0, minimum=0.1)
JUPITER_BASE_URL = env.http_url("JUPITER_BASE_URL", "https://api.jup.ag")
JUPITER_API_KEY = env.str("JUPITER_API_KEY", "")
# Unset: the plan's rate for the key (0.5 a second keyless, 1 with a key).
JUPITER_RATE_PER_SECOND: float | None = env.float("JUPITER_RATE_PER_SECOND", None)  # type: ignore[arg-type]
JUPITER_TIMEOUT_SECONDS = env.float("JUPITER_TIMEOUT_SECONDS", 10.0, minimum=0.1)

# Alerts. Links in messages point at SITE_URL. Telegram: one bot; TELEGRAM_API_URL is where its Bot API
# lives (the market simulator plays it in the demo). Discord webhook URLs are sent to DISCORD_API_URL.
SITE_URL = env.http_url("SITE_URL", f"http://127.0.0.1:{env.int('PORT', 8000)}")
TELEGRAM_BOT_TOKEN = env.str("TELEGRAM_BOT_TOKEN", "")
TELEGRAM_BOT_USERNAME = env.str("TELEGRAM_BOT_USERNAME", "AuraAlertsBot")
TELEGRAM_API_URL = env.http_url("TELEGRAM_API_URL", "https://api.telegram.org")
DISCORD_API_URL = env.http_url("DISCORD_API_URL", "https://discord.com")
ALERTS_SEND_TIMEOUT_SECONDS = env.float("ALERTS_SEND_TIMEOUT_SECONDS", 10.0, minimum=0.1)
# A channel sends at most its burst limit of alerts within this window; the rest wait for one digest.
ALERTS_BURST_WINDOW_SECONDS = env.int("ALERTS_BURST_WINDOW_SECONDS", 60, minimum=1)
ALERTS_MAX_ATTEMPTS = env.int("ALERTS_MAX_ATTEMPTS", 8, minimum=1)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "AURA alerts <alerts@localhost>")
# Token signals (SIGNALS.md): every parameter of the engine, with v1's defaults. Changing one changes
# what fires from then on; the spec version stored in each signal stays the engine's.
SIGNAL_WINDOW_SECONDS = env.int("SIGNAL_WINDOW_SECONDS", 1800, minimum=1)
SIGNAL_MIN_WALLETS = env.int("SIGNAL_MIN_WALLETS", 3, minimum=1)
SIGNAL_COOLDOWN_SECONDS = env.int("SIGNAL_COOLDOWN_SECONDS", 6 * 3600, minimum=1)
SIGNAL_BIG_TRADE_USD = env.decimal("SIGNAL_BIG_TRADE_USD", "10000", minimum="0")
SIGNAL_BIG_TRADE_GROWTH_SECONDS = env.int("SIGNAL_BIG_TRADE_GROWTH_SECONDS", 1800, minimum=1)
SIGNAL_MIN_CYCLES_FOR_QUALITY = env.int("SIGNAL_MIN_CYCLES_FOR_QUALITY", 5, minimum=1)
SIGNAL_MOMENTUM_PUBLISH_SCORE = env.int("SIGNAL_MOMENTUM_PUBLISH_SCORE", 25, minimum=0)
SIGNAL_MOMENTUM_MAX_INPUT_AGE_SECONDS = env.int("SIGNAL_MOMENTUM_MAX_INPUT_AGE_SECONDS", 3600, minimum=1)
SIGNAL_SAFETY_MAX_TOP10_SHARE = env.decimal("SIGNAL_SAFETY_MAX_TOP10_SHARE", "0.3", minimum="0", maximum="1")
SIGNAL_SAFETY_MIN_LIQUIDITY_USD = env.decimal("SIGNAL_SAFETY_MIN_LIQUIDITY_USD", "10000", minimum="0")
SIGNAL_SAFETY_MAX_INPUT_AGE_SECONDS = env.int("SIGNAL_SAFETY_MAX_INPUT_AGE_SECONDS", 86400, minimum=1)
SIGNAL_HIT_THRESHOLD = env.decimal("SIGNAL_HIT_THRESHOLD", "0.05", minimum="0")
SIGNAL_OUTCOME_PRICE_GAP_SECONDS = env.int("SIGNAL_OUTCOME_PRICE_GAP_SECONDS", 600, minimum=1)
# Whose record a signal shows for each wallet: its figures over this leaderboard window.
SIGNAL_WALLET_STATS_WINDOW = env.str("SIGNAL_WALLET_STATS_WINDOW", "30d")
if SIGNAL_WALLET_STATS_WINDOW not in ("24h", "7d", "30d", "all"):
    raise ImproperlyConfigured(f"SIGNAL_WALLET_STATS_WINDOW={SIGNAL_WALLET_STATS_WINDOW!r} is not 24h, 7d, 30d or all.")
# The market poll: Birdeye trending and new listings, DexScreener profiles and boosts.
SIGNAL_MARKET_POLL_SECONDS = env.int("SIGNAL_MARKET_POLL_SECONDS", 60, minimum=5)
SIGNAL_TRENDING_LIMIT = env.int("SIGNAL_TRENDING_LIMIT", 20, minimum=1)
SIGNAL_NEW_LISTING_LIMIT = env.int("SIGNAL_NEW_LISTING_LIMIT", 10, minimum=1)
SIGNAL_OUTCOMES_SECONDS = env.int("SIGNAL_OUTCOMES_SECONDS", 120, minimum=5)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "channels",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "aura",
    "whales",
    "signals",
    "portfolios",
    "alerts",
]

MIDDLEWARE = [
    "aura.middleware.RefuseNulCharacters",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "aura.urls"
ASGI_APPLICATION = "aura.asgi.application"
WSGI_APPLICATION = "aura.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "alerts.context_processors.alerts",
                "aura.context_processors.live",
            ],
        },
    },
]

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "aura",
        # One pool per process (aura.cache): otherwise every ASGI request opens a connection of its own.
        "OPTIONS": {
            "socket_connect_timeout": 2,
            "socket_timeout": 2,
            "pool_class": "aura.cache.SharedConnectionPool",
        },
    }
}

# Sessions are read from Redis (written through to PostgreSQL): every page reads one, few write one.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

CHANNEL_LAYERS = {
    "default": {
        # redis-py 8 gives every connection a 5 s socket_timeout; the layer's idle blocking reads
        # would then time out and drop every WebSocket (see PITFALLS.md).
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        # Pub/sub channels are global to a Redis server (not per database): processes that must not
        # hear each other (a test run beside `make run` on one Redis) use different prefixes.
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
            "prefix": env.str("CHANNELS_PREFIX", "aura"),
        },
    }
}

CELERY_BROKER_URL = celery_broker_url(REDIS_URL)
# Tests run a worker on a queue of their own so that no other worker takes their tasks.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", "celery")
# Backfills have a queue (and a worker process) of their own: 200 new wallets queue 200 history
# slices, and webhook bookings, prices, token names and the webhook sync must not wait behind them.
CELERY_HISTORY_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}.history"
# Alerts have a queue (and worker) of their own too: a slow Telegram must not hold up bookings, nor
# a backlog of bookings an alert.
CELERY_ALERTS_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}.alerts"
CELERY_TASK_ROUTES = {
    "whales.tasks.backfill_wallet": {"queue": CELERY_HISTORY_QUEUE},
    "whales.tasks.reconcile_all_stats": {"queue": CELERY_HISTORY_QUEUE},
    "alerts.tasks.*": {"queue": CELERY_ALERTS_QUEUE},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "poll-due-wallets": {"task": "whales.tasks.poll_due_wallets", "schedule": 15.0},
    "sync-helius-webhook": {"task": "whales.tasks.sync_helius_webhook", "schedule": 300.0},
    "resume-backfills": {"task": "whales.tasks.resume_backfills", "schedule": 60.0},
    "refresh-prices": {"task": "whales.tasks.refresh_prices", "schedule": float(PRICE_REFRESH_SECONDS)},
    "refresh-all-stats": {"task": "whales.tasks.refresh_all_stats", "schedule": 300.0},
    "reconcile-all-stats": {"task": "whales.tasks.reconcile_all_stats", "schedule": 3600.0},
    "value-swaps": {"task": "whales.tasks.value_swaps", "schedule": 120.0},
    "book-stragglers": {"task": "whales.tasks.book_stragglers", "schedule": 120.0},
    "push-unpushed-swaps": {"task": "whales.tasks.push_unpushed_swaps", "schedule": 10.0},
    "name-unnamed-tokens": {"task": "whales.tasks.name_unnamed_tokens", "schedule": 600.0},
    "send-due-alerts": {"task": "alerts.tasks.send_due", "schedule": 10.0},
    "sweep-swaps-for-alerts": {"task": "alerts.tasks.sweep_swaps", "schedule": 60.0},
    "signals-poll-market": {"task": "signals.tasks.poll_market", "schedule": float(SIGNAL_MARKET_POLL_SECONDS)},
    "signals-record-outcomes": {"task": "signals.tasks.record_outcomes", "schedule": float(SIGNAL_OUTCOMES_SECONDS)},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Failed sign-ins allowed per window (django-ratelimit rates) before the login forms lock (aura.lockout).
LOGIN_FAILURES_PER_USERNAME = env.rate("LOGIN_FAILURES_PER_USERNAME", "5/15m")
LOGIN_FAILURES_PER_IP = env.rate("LOGIN_FAILURES_PER_IP", "30/15m")
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Served by WhiteNoise from the finders, so neither Daphne nor a fresh checkout needs collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# A Helius webhook delivery carries up to 100 enhanced transactions of ~10 KB each.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# The API (/api/v1/, aura/api_*.py, whales/api*.py, portfolios/api*.py). Token auth first, so an anonymous
# request gets 401 with `WWW-Authenticate: Token`; a phone signs in for JWTs (Bearer), scripts keep their
# DRF tokens, the browser's session works too.
API_ANONYMOUS_RATE = env.rate("API_ANONYMOUS_RATE", "100/m")  # per IP address, every anonymous request
API_AUTH_RATE = env.rate("API_AUTH_RATE", "100/m")  # per IP address, on the sign-in and token endpoints
API_USER_RATE = env.rate("API_USER_RATE", "1200/m")  # per signed-in user
# How many proxies in front of Daphne append to X-Forwarded-For; 0 counts the connecting address, so a
# client cannot pick its own address (and its own throttle bucket) by sending the header.
API_TRUSTED_PROXIES = env.int("API_TRUSTED_PROXIES", 0, minimum=0)
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "aura.api_schema.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "aura.api_tokens.TokenAuthentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "aura.api_throttling.AnonymousRequestsPerAddress",
        "rest_framework.permissions.IsAuthenticated",
    ],
    # Counted in the Redis cache; a phone polling the feed every few seconds is far below the user rate.
    "DEFAULT_THROTTLE_CLASSES": ["aura.api_throttling.RequestsPerUser"],
    "DEFAULT_THROTTLE_RATES": {"anonymous": API_ANONYMOUS_RATE, "auth": API_AUTH_RATE, "user": API_USER_RATE},
    "NUM_PROXIES": API_TRUSTED_PROXIES,
    "DEFAULT_PAGINATION_CLASS": "aura.pagination.CappedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    # Money and amounts leave as decimal strings at their stored scale: a float would lose digits.
    "COERCE_DECIMAL_TO_STRING": True,
}
# A phone keeps a refresh token; each refresh hands out a new one and blacklists the old, so a stolen
# refresh token works once at most, and signing out blacklists it for good.
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", 15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", 30, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AURA API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "API of AURA, the Solana whale tracker: the leaderboard, tracked wallets (figures per window, "
        "open positions, closed cycles), swaps, tokens and their price history, "
        "token signals with their reasons and outcomes and the per-kind scoreboard, and the requesting user's "
        "follows, notes, devices and alerts (channels, rules, the delivery log); staff manage the tracked wallets.\n\n"
        "Authenticate with `Authorization: Bearer <access>` (a JWT from `POST /api/v1/auth/token/`, "
        "renewed with `/api/v1/auth/token/refresh/`), `Authorization: Token <key>` for scripts (tokens "
        "are made in the admin), or the browser's session. Amounts and money are decimal strings, times "
        "ISO 8601 in UTC. Token symbols and names come from the chain and are returned verbatim: escape "
        "them before putting them into HTML.\n\n"
        "Limits: anonymous requests and the sign-in endpoints allow "
        f"{API_ANONYMOUS_RATE.replace('/', ' per ')} per IP address, signed-in users "
        f"{API_USER_RATE.replace('/', ' per ')}; past them the answer is 429 with `Retry-After` (seconds).\n\n"
        "Live events: a WebSocket at `/ws/api/v1/` (JSON frames; its protocol is in the README, section API). "
        "It closes with code 4401 when the access token is missing or bad, and with 4440 when the token "
        "it signed in with expires, unless a fresh one of the same user came before as "
        '`{"type": "auth", "token": "<access>"}`.'
    ),
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    # No validator badge: Swagger UI would fetch it from validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Enums named once: the names the mobile app's generated types already use stay put.
    "ENUM_NAME_OVERRIDES": {
        "SideEnum": "whales.models.Side",
        "StatusEnum": ["added", "updated", "duplicate", "error"],
        "ChannelKindEnum": "alerts.models.Channel.Kind",
        "SendingChannelKindEnum": "alerts.api.SENDING_KINDS",
        "DeliveryKindEnum": "alerts.models.Delivery.Kind",
        "KindEnum": "signals.models.Kind",
    },
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^hooks/"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=3600, minimum=0)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}

if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.utils import BadDsn

    try:
        sentry_sdk.init(dsn=SENTRY_DSN, send_default_pii=False, traces_sample_rate=0.0)
    except BadDsn as error:
        raise ImproperlyConfigured(f"SENTRY_DSN is not a valid Sentry DSN: {error}") from None
