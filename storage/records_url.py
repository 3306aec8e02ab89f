"""A records store's URL: which driver it needs, and how it is shown without its password.

A URL given with ``--db`` or ``FINOPS_TUI_DB`` may carry a password (``postgresql://ana:secret@db/finops``).
It is shown only through ``redact_url`` (``ana:***@``), and every message that leaves the records store
goes through ``scrub``, which also hides the password should a driver repeat it in an error.
"""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

MASK = "***"
POSTGRES_EXTRA = "postgres"  # pip install 'finops-tui[postgres]': psycopg 3, binary wheels
# The driver each plain backend name gets: psycopg 3 is the one the extra installs (SQLAlchemy 2.0 would
# otherwise pick psycopg2 for ``postgresql://``, which nobody here installed).
_DEFAULT_DRIVER = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}
# Python packages of the drivers people use, and the extra that brings each one (None: install it yourself).
_DRIVER_PACKAGES = {
    "psycopg": ("psycopg", POSTGRES_EXTRA),
    "psycopg2": ("psycopg2-binary", None),
    "asyncpg": ("asyncpg", None),
    "pg8000": ("pg8000", None),
    "pymysql": ("pymysql", None),
    "mysqldb": ("mysqlclient", None),
}
_QUERY_SECRET = re.compile(r"(?i)([?&](?:password|passwd|pwd)=)([^&]*)")
_USERINFO = re.compile(r"^([^:/?#]+://[^:/@?#]*):[^@/?#]*@")


class RecordsUrlError(ValueError):
    """A records URL this installation cannot use: malformed, an unknown database, or a missing driver.
    A ValueError, so the command line reports it as bad input (exit 2)."""


def parse(url: str) -> URL:
    """The URL, with a plain ``postgresql://`` (or ``postgres://``) given the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise RecordsUrlError(f"not a database URL: {redact_url(url)!r} (expected e.g. "
                              "postgresql://USER@HOST:5432/DATABASE or sqlite:///PATH)") from exc
    driver = _DEFAULT_DRIVER.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def redact_url(url: str) -> str:
    """The URL with its password (in the user part or the query) shown as ``***``."""
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        shown = _USERINFO.sub(rf"\1:{MASK}@", url)
    return _QUERY_SECRET.sub(rf"\1{MASK}", shown)


def secrets_of(url: str) -> list[str]:
    """Every spelling of the URL's passwords that a message could carry, longest first."""
    found: set[str] = set()
    try:
        parsed = make_url(url)
        if parsed.password:
            found.add(str(parsed.password))
        for key, value in parsed.query.items():
            if key.lower() in ("password", "passwd", "pwd"):
                found.update([value] if isinstance(value, str) else value)
    except ArgumentError:
        pass
    match = re.match(r"^[^:/?#]+://[^:/@?#]*:([^@/?#]*)@", url)
    if match:
        found.add(match.group(1))
    found.update(m.group(2) for m in _QUERY_SECRET.finditer(url))
    spelled = set(found)
    for secret in found:
        spelled.update({quote(secret, safe=""), quote_plus(secret)})
    return sorted((s for s in spelled if s), key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` with the URL shown redacted and any of its passwords replaced by ``***``."""
    text = text.replace(url, redact_url(url))
    for secret in secrets_of(url):
        text = text.replace(secret, MASK)
    return text


def missing_driver(url: str, exc: ImportError) -> RecordsUrlError:
    """The one-line message for a URL whose driver is not installed, naming what to install."""
    parsed = parse(url)
    driver = parsed.get_driver_name()
    package, extra = _DRIVER_PACKAGES.get(driver, (exc.name or driver, None))
    if extra:
        hint = f"install it with: pip install 'finops-tui[{extra}]'"
    else:
        hint = f"install the Python package {package!r}"
    return RecordsUrlError(f"the records store {redact_url(url)} needs the {parsed.get_backend_name()} driver "
                           f"{driver!r}, which is not installed; {hint}")
