"""Licita settings, read from environment variables with safe local defaults.

LICITA_ENV=production turns on the secure settings. Nothing else reads the environment.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LICITA_VAR_DIR", BASE_DIR / "var"))

ENV = os.environ.get("LICITA_ENV", "development")
PRODUCTION = ENV == "production"

SECRET_KEY = os.environ.get("LICITA_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        msg = "LICITA_SECRET_KEY must be set when LICITA_ENV=production"
        raise RuntimeError(msg)
    SECRET_KEY = "insecure-development-key-not-for-production-use-0123456789abcdef"  # noqa: S105

DEBUG = os.environ.get("LICITA_DEBUG", "0" if PRODUCTION else "1") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("LICITA_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("LICITA_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "licita.portal",  # first: its templates (login, password reset) replace the admin's
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "licita.core",
    "licita.accounts",
    "licita.documents",
    "licita.procurement",
    "licita.bidding",
    "licita.publication",
    "licita.ledger",
    "licita.ops",
    "licita.continuity",  # continuity (issue 7)
    "licita.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything looks a path or a parameter up: PostgreSQL cannot hold NUL (a 400 naming where it is).
    "licita.core.middleware.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After sessions, locale and authentication: its refusals are rendered pages in the user's language.
    "licita.ops.middleware.ReadOnlyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "licita.urls"
WSGI_APPLICATION = "licita.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "licita.portal.context.workspaces",
                "licita.ops.middleware.read_only_context",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    url = os.environ.get("LICITA_DATABASE_URL", "")
    if url:
        db: dict[str, object] = dict(
            dj_database_url.parse(url, conn_max_age=int(os.environ.get("LICITA_CONN_MAX_AGE", "60")))
        )
        if db["ENGINE"] == "django.db.backends.postgresql":
            db.setdefault("TEST", {"NAME": os.environ.get("LICITA_TEST_DATABASE_NAME", "test_licita")})
        return db
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "licita.sqlite3",
        "OPTIONS": {
            # WAL with synchronous=FULL: an acknowledged commit survives a crash of the process.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "licita" / "locale"]
TIME_ZONE = "America/Mexico_City"
USE_I18N = True
USE_TZ = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
# Password-reset mail: printed on the console unless an SMTP server is configured.
ADMINS = [("Licita", a.strip()) for a in os.environ.get("LICITA_ADMIN_EMAILS", "").split(",") if a.strip()]
EMAIL_BACKEND = os.environ.get("LICITA_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("LICITA_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("LICITA_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("LICITA_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("LICITA_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("LICITA_EMAIL_TLS", "0") == "1"
DEFAULT_FROM_EMAIL = os.environ.get("LICITA_EMAIL_FROM", "Licita <no-reply@localhost>")

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
WHITENOISE_USE_FINDERS = True

# Documents: the local content-addressed store, the source of truth (licita/documents/store.py).
LICITA_DOCUMENTS_DIR = Path(os.environ.get("LICITA_DOCUMENTS_DIR", VAR_DIR / "documents"))
LICITA_MAX_DOCUMENT_BYTES = int(os.environ.get("LICITA_MAX_DOCUMENT_BYTES", str(20 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = int(LICITA_MAX_DOCUMENT_BYTES * 1.5)
# --- Document replica and scrubber (docs/operations.md, "Documents, replication and scrubbing") ---
# An S3-compatible object store that gets a copy of every blob after the local durable write. An empty endpoint
# means no replica. The timeout (seconds) bounds connecting and each read, so a hung store cannot hold an upload.
LICITA_S3_ENDPOINT = os.environ.get("LICITA_S3_ENDPOINT", "")
LICITA_S3_BUCKET = os.environ.get("LICITA_S3_BUCKET", "licita-documents")
LICITA_S3_ACCESS_KEY = os.environ.get("LICITA_S3_ACCESS_KEY", "")
LICITA_S3_SECRET_KEY = os.environ.get("LICITA_S3_SECRET_KEY", "")
LICITA_S3_REGION = os.environ.get("LICITA_S3_REGION", "us-east-1")
LICITA_S3_TIMEOUT = float(os.environ.get("LICITA_S3_TIMEOUT", "5"))
# The worker re-hashes every stored blob (locally and on the replica) at most once per this many hours.
LICITA_SCRUB_INTERVAL_HOURS = float(os.environ.get("LICITA_SCRUB_INTERVAL_HOURS", "24"))
# --- end document replica and scrubber ---

# Platform signing key (Ed25519) for bid receipts: base64 of the 32-byte seed, or a file in var/keys.
LICITA_SIGNING_KEY = os.environ.get("LICITA_SIGNING_KEY", "")
LICITA_KEYS_DIR = Path(os.environ.get("LICITA_KEYS_DIR", VAR_DIR / "keys"))

# OCDS: the ocid prefix is registered with the Open Contracting Partnership; the default is NOT registered
# (demo and development only).
LICITA_OCID_PREFIX = os.environ.get("LICITA_OCID_PREFIX", "ocds-lct000")
# Public base URL, used for absolute links in published open data.
LICITA_PUBLIC_URL = os.environ.get("LICITA_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# The public ledger: its checkpoints' origin line (a URL without scheme), its Ed25519 key (a base64 seed; empty:
# a key file in LICITA_KEYS_DIR, created on first use) and the verifier keys of earlier keys, comma-separated,
# still published so that old checkpoints keep verifying after a rotation (docs/ledger.md).
LICITA_LEDGER_ORIGIN = os.environ.get("LICITA_LEDGER_ORIGIN", "") or (
    LICITA_PUBLIC_URL.split("://", 1)[-1] + "/ledger"
)
LICITA_LEDGER_KEY = os.environ.get("LICITA_LEDGER_KEY", "")
LICITA_LEDGER_PREVIOUS_KEYS = [k for k in os.environ.get("LICITA_LEDGER_PREVIOUS_KEYS", "").split(",") if k.strip()]
# Read-only mode and capacity (licita/ops): the shared runtime folder (default: in /dev/shm), how often a
# read-only platform checks whether writes are possible again, the free-space floor under which writes are
# refused, the forecast horizon that warns the operator, and how often free space is sampled.
LICITA_RUNTIME_DIR = os.environ.get("LICITA_RUNTIME_DIR", "")
LICITA_READONLY_PROBE_SECONDS = float(os.environ.get("LICITA_READONLY_PROBE_SECONDS", "5"))
LICITA_MIN_FREE_BYTES = int(os.environ.get("LICITA_MIN_FREE_BYTES", str(256 * 2**20)))
LICITA_CAPACITY_WARN_DAYS = float(os.environ.get("LICITA_CAPACITY_WARN_DAYS", "7"))
LICITA_CAPACITY_SAMPLE_SECONDS = float(os.environ.get("LICITA_CAPACITY_SAMPLE_SECONDS", "300"))
LICITA_DATABASE_VOLUME = os.environ.get("LICITA_DATABASE_VOLUME", "")
LICITA_BULK_DIR = Path(os.environ.get("LICITA_BULK_DIR", VAR_DIR / "bulk"))
# Backups (`licita backup`, `licita drill`): the folder that receives one folder per backup.
LICITA_BACKUP_DIR = Path(os.environ.get("LICITA_BACKUP_DIR", VAR_DIR / "backups"))
LICITA_WORKER_INTERVAL = float(os.environ.get("LICITA_WORKER_INTERVAL", "15"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LICITA_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if PRODUCTION:
    SECURE_SSL_REDIRECT = os.environ.get("LICITA_SSL_REDIRECT", "1") == "1"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("LICITA_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
