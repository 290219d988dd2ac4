"""Preview DICOM settings, read from environment variables.

Every variable is listed with its default in ``deploy/.env.example``. ``PORTAL_ENV`` defaults to
``production`` (servers: the WSGI module and gunicorn), which refuses to start without a real
``SECRET_KEY``; ``manage.py`` defaults to ``development``, where the database falls back to
SQLite under ``var/`` and a secret key is generated once and kept under ``var/``. DEBUG is off
unless asked for.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_number(name: str, default: Any, kind: type, what: str) -> Any:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return kind(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be {what}, got {value!r}") from exc


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "an integer")


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_secret(name: str, default: str = "") -> str:
    """Read NAME, or the file named by NAME_FILE (container secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


# "production" or "development". Production is the safe default: it demands a real secret.
PORTAL_ENV = env_str("PORTAL_ENV", "production").strip().lower()
if PORTAL_ENV not in {"production", "development"}:
    raise ImproperlyConfigured("PORTAL_ENV must be 'production' or 'development'")
IS_PRODUCTION = PORTAL_ENV == "production"

DEBUG = env_bool("DEBUG", False)
ALLOW_DEMO_DATA = env_bool("ALLOW_DEMO_DATA", False)


def _development_secret_key() -> str:
    # Generated once and kept, so sessions survive a restart of `make run`.
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if IS_PRODUCTION:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production refuses to start without one "
            "(set SECRET_KEY or SECRET_KEY_FILE, or PORTAL_ENV=development on a laptop)."
        )
    SECRET_KEY = _development_secret_key()
elif IS_PRODUCTION and len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY is too short for production (32 characters minimum).")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc from our own static files
    "axes",
    "web",
    "accounts",
    "patients",
    "orthanc_bridge",
    "audit",
    "home",
]
# Development tooling (local Orthanc, sample DICOM, demo data, bench commands): never in a
# production image, unless it is a demonstration instance that seeds the demo data.
if not IS_PRODUCTION or ALLOW_DEMO_DATA:
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Right below WhiteNoise (static files keep their own caching): every other answer, the
    # error pages, CSRF failures and redirects of the middleware below included, gets them.
    "web.headers.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "web.errors.ErrorMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.abilities.abilities",
            ],
            # Every template translates and has named partials: no {% load %} line in each.
            "builtins": [
                "django.templatetags.i18n",
                "template_partials.templatetags.partials",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# DATABASE_URL first, then the seed stack's POSTGRES_* variables, else embedded SQLite.
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 60)
CONN_HEALTH_CHECKS = env_bool("CONN_HEALTH_CHECKS", True)
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 3)


def _database_config() -> dict[str, Any]:
    url = env_secret("DATABASE_URL")
    if url:
        config: dict[str, Any] = dict(
            dj_database_url.parse(
                url, conn_max_age=CONN_MAX_AGE, conn_health_checks=CONN_HEALTH_CHECKS
            )
        )
    elif env_str("POSTGRES_HOST"):
        config = {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": env_str("POSTGRES_HOST"),
            "PORT": env_str("POSTGRES_PORT", "5432"),
            "NAME": env_str("POSTGRES_DB", "preview_dicom"),
            "USER": env_str("POSTGRES_USER", "preview_dicom"),
            "PASSWORD": env_secret("POSTGRES_PASSWORD"),
            "CONN_MAX_AGE": CONN_MAX_AGE,
            "CONN_HEALTH_CHECKS": CONN_HEALTH_CHECKS,
        }
    else:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # IMMEDIATE: a transaction that will write takes the lock at its start, so two that
            # overlap wait for each other instead of failing with "database is locked".
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    if "postgresql" in config["ENGINE"]:
        # A bounded connect timeout keeps /health and requests from hanging on a dead server.
        config.setdefault("OPTIONS", {})["connect_timeout"] = DB_CONNECT_TIMEOUT
    return config


DATABASES = {"default": _database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses locked-out credentials before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Failed logins: LOGIN_FAILURE_LIMIT per email + IP within LOGIN_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "email"
AXES_USERNAME_CALLABLE = "accounts.services.login_throttle_key"
AXES_LOCKOUT_CALLABLE = "accounts.views.login_locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# Logins and failed logins go to the portal's audit trail (accounts.signals); axes' access log
# would also open a session for every API token login.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Behind Nginx, the client address is in X-Forwarded-For; set when the proxy is trusted.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "accounts.services.client_ip"

DEMO_ADMIN_EMAIL = "admin@imagine.fr"
DEMO_ADMIN_PASSWORD = "Admin123!"  # noqa: S105 - the documented demo password, refused in production

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True
# Short numeric dates in both languages (portal/formats/).
FORMAT_MODULE_PATH = ["portal.formats"]

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
if not IS_PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not IS_PRODUCTION

# --- Security ---------------------------------------------------------------------------------
# Sessions in the database alone, never a cached copy: a Redis cut off from one worker (not
# restarted) keeps what it held, and would let a session ended meanwhile in again once it
# answers. Each request reads the user from the database anyway; behind Nginx the viewer's
# image requests are decided once per DICOMWEB_DECISION_SECONDS.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", IS_PRODUCTION and not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
TRUST_X_FORWARDED_PROTO = env_bool("TRUST_X_FORWARDED_PROTO", False)
if TRUST_X_FORWARDED_PROTO:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind a TLS proxy (the stack, compose) a plain-HTTP request is sent to HTTPS and browsers are
# told to stay there. /health stays plain: the container's health check calls gunicorn directly.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", TRUST_X_FORWARDED_PROTO)
SECURE_REDIRECT_EXEMPT = [r"^health$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SECURE_SSL_REDIRECT else 0)
# Subdomains of the portal's own host name only (not the hospital's parent domain).
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Asking browsers to preload HSTS is the registrable domain owner's decision, not the portal's.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
# web.headers: the policy of each answer, by path prefix (longest wins). Nginx sends the same
# policies behind the stack (deploy/nginx/templates/portal.conf.template; a test keeps them equal).
CONTENT_SECURITY_POLICIES = {
    "/": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    # OHIF starts with inline scripts, compiles codecs (WebAssembly) and draws in workers.
    "/viewer/": (
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' "
        "'wasm-unsafe-eval' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "font-src 'self' data:; connect-src 'self' blob: data:; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    ),
    # Swagger UI and ReDoc (drf-spectacular) start with an inline script.
    **dict.fromkeys(
        ("/api/docs", "/api/redoc"),
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; worker-src 'self' blob:; object-src 'none'; "
        "frame-ancestors 'none'",
    ),
}

# --- Cache ------------------------------------------------------------------------------------
CACHE_URL = env_str("CACHE_URL")
CACHES = {
    "default": (
        {
            # Redis down: misses and dropped writes, never a failed request (web.cache).
            "BACKEND": "web.cache.DegradingRedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 2},
        }
        if CACHE_URL.startswith("redis")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Lists ------------------------------------------------------------------------------------
# Rows per page of every list, on the pages and in the API.
LIST_PAGE_SIZE = env_int("LIST_PAGE_SIZE", 25)

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "web.api.pagination.PortalPagination",
    "PAGE_SIZE": LIST_PAGE_SIZE,
    "DEFAULT_SCHEMA_CLASS": "web.api.schema.PortalAutoSchema",
    "EXCEPTION_HANDLER": "web.api.errors.json_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # The API reads JSON (the upload takes files as well): a form from another site cannot
    # post to it, and an empty form field never stands for "not given".
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 1)),
    # Rotation and the absolute lifetime are done by accounts.tokens.refresh_rotate.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Tokens carry a hash of the password: a password change ends the access tokens too.
    "CHECK_REVOKE_TOKEN": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "SIGNING_KEY": env_secret("JWT_SIGNING_KEY") or SECRET_KEY,
}
JWT_REFRESH_COOKIE = "refresh_token"
JWT_CSRF_COOKIE = "csrf_token"
SPECTACULAR_SETTINGS = {
    "TITLE": "Preview DICOM API",
    "DESCRIPTION": "Patients, users, groups and DICOM images of the Preview DICOM portal.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api",
    "PREPROCESSING_HOOKS": ["web.api.schema.drop_trailing_slash_aliases"],
    # /api/docs and /api/redoc work offline: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Orthanc (used by the orthanc_bridge app) -------------------------------------------------
ORTHANC_URL = env_str("ORTHANC_URL", "http://127.0.0.1:8042").rstrip("/")
ORTHANC_USER = env_str("ORTHANC_USER", "preview")
ORTHANC_PASSWORD = env_secret("ORTHANC_PASSWORD")
# How long a call may wait for Orthanc's answer (also the idle timeout of streamed images and
# zips); after one such timeout Orthanc is marked unresponsive and calls fail at once with a 503,
# but for one probe every ORTHANC_PROBE_SECONDS, until it answers again.
ORTHANC_TIMEOUT_SECONDS = env_float("ORTHANC_TIMEOUT_SECONDS", 20.0)
ORTHANC_CONNECT_TIMEOUT_SECONDS = env_float("ORTHANC_CONNECT_TIMEOUT_SECONDS", 3.0)
ORTHANC_PROBE_SECONDS = env_float("ORTHANC_PROBE_SECONDS", 2.0)
# The study index (orthanc_bridge.index): the follower (`manage.py orthanc_sync --follow`) also
# compares the list of studies this often, since Orthanc logs no change for a deletion.
ORTHANC_SYNC_RECONCILE_SECONDS = env_float("ORTHANC_SYNC_RECONCILE_SECONDS", 60.0)
# QIDO without `limit` answers at most this many matches (and says so in a Warning header).
QIDO_MAX_RESULTS = env_int("QIDO_MAX_RESULTS", 1000)
# How long a DICOMweb "may this user see this study" decision is reused (removing a user from a
# group takes effect within this bound).
DICOMWEB_DECISION_SECONDS = env_int("DICOMWEB_DECISION_SECONDS", 10)

# --- Share links ------------------------------------------------------------------------------
# A link's lifetime is chosen between 1 hour and this bound; revoking or expiring one stops new
# image requests within DICOMWEB_DECISION_SECONDS (orthanc_bridge.shares).
SHARE_LINK_MAX_HOURS = min(env_int("SHARE_LINK_MAX_HOURS", 30 * 24), 30 * 24)  # 30 days at most
SHARE_LINK_DEFAULT_HOURS = env_int("SHARE_LINK_DEFAULT_HOURS", 7 * 24)
# Unknown, expired or revoked links opened from one address before it is refused any lookup for
# the rest of the window.
SHARE_LOOKUP_FAILURES_MAX = env_int("SHARE_LOOKUP_FAILURES_MAX", 20)
SHARE_LOOKUP_WINDOW_SECONDS = env_int("SHARE_LOOKUP_WINDOW_SECONDS", 600)

# The OHIF viewer's files, installed by `python -m orthanc_bridge.viewer.install`.
OHIF_DIST_DIR = Path(env_str("OHIF_DIST_DIR", str(VAR_DIR / "ohif" / "dist")))

# --- Uploads ----------------------------------------------------------------------------------
# Files above 2.5 MB go to temporary files while a request is read, never held in memory.
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("UPLOAD_MAX_FILES_PER_REQUEST", 1000)
UPLOAD_MAX_BODY_BYTES = env_int("UPLOAD_MAX_BODY_BYTES", 8 * 1024**3)
UPLOAD_ZIP_MAX_EXPANDED_BYTES = env_int("UPLOAD_ZIP_MAX_EXPANDED_BYTES", 8 * 1024**3)
UPLOAD_ZIP_MAX_ENTRIES = env_int("UPLOAD_ZIP_MAX_ENTRIES", 50000)
# The zips of one request may expand to 64 MiB plus this many times their own size; a zip past
# it is refused from the sizes it declares, before any byte is inflated (zip bombs deflate a
# thousandfold, DICOM tenfold, a blank or synthetic image a hundredfold).
UPLOAD_ZIP_MAX_RATIO = env_int("UPLOAD_ZIP_MAX_RATIO", 200)
# The longest one upload request (a page batch, an API call, a STOW-RS request) may spend; files
# not sent by then are reported "not stored" with the reason, to be sent again.
UPLOAD_BATCH_SECONDS = env_float("UPLOAD_BATCH_SECONDS", 25.0)
# Checked files sent to Orthanc at once by one upload request.
UPLOAD_ORTHANC_CONCURRENCY = env_int("UPLOAD_ORTHANC_CONCURRENCY", 4)

# --- Logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Tests: a fast hasher (real hashing is covered by Django itself).
if env_bool("PORTAL_TESTING", False):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
