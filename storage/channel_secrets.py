"""Channel secrets: Apprise URLs kept out of the records.

A Slack, Teams or webhook URL is a credential (whoever holds it may post). The records keep only a
reference: ``secret:ID`` names an entry of ``<home>/channels.secrets.json``, a file only its owner may read
or write (mode 0600, checked on every read), or ``env:VAR`` names an environment variable holding the URL.

Apprise's debug log and its "privacy" URLs still carry webhook path tokens and ``+Header`` values, so every
text that may hold a URL (an error, a log line) goes through ``scrub`` before it is stored or printed, and a
URL is shown only as ``mask_url`` renders it.
"""

from __future__ import annotations

import json
import os
import re
import secrets as _random
import stat
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

SECRETS_FILE = "channels.secrets.json"
MASK = "***"
ENV_PREFIX = "env:"
SECRET_PREFIX = "secret:"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Schemes whose host part is a host, not a token (slack://TOKEN_A/TOKEN_B/..., msteams://TEAM/TOKEN...).
_HOST_SCHEMES = {"json", "jsons", "xml", "xmls", "form", "forms", "mailto", "mailtos", "ntfy", "ntfys",
                 "gotify", "gotifys", "matrix", "matrixs", "mmost", "mmosts", "rocket", "rockets",
                 "apprise", "apprises", "http", "https"}
_ANY_URL = re.compile(r"\b([a-z][a-z0-9+.-]*)://([^\s/'\"<>?#]+)([^\s'\"<>]*)", re.I)


class ChannelError(ValueError):
    """A channel that cannot be used; the message names it without its secret."""


def secrets_path(home_path: Path) -> Path:
    return Path(home_path) / SECRETS_FILE


def _check_mode(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        raise ChannelError(f"{path} may be read by others (mode {mode:o}); run: chmod 600 {path}")


def read_secrets(home_path: Path) -> dict[str, str]:
    """ID -> Apprise URL from the home's secrets file (none when it does not exist)."""
    path = secrets_path(home_path)
    if not path.exists():
        return {}
    _check_mode(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ChannelError(f"{path} is not a channel secrets file: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ChannelError(f"{path} is not a channel secrets file: expected an object of strings")
    return {str(k): v for k, v in data.items()}


def _write(home_path: Path, data: dict[str, str]) -> None:
    """Write atomically, created 0600 (never world-readable, not even for an instant)."""
    path = secrets_path(home_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2, sort_keys=True)
        out.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def store_secret(home_path: Path, url: str) -> str:
    """Keep ``url`` in the secrets file; its reference (``secret:ID``)."""
    data = read_secrets(home_path)
    key = _random.token_hex(8)
    data[key] = url
    _write(home_path, data)
    return SECRET_PREFIX + key


def forget_secret(home_path: Path, ref: str) -> None:
    if not ref.startswith(SECRET_PREFIX):
        return
    data = read_secrets(home_path)
    if data.pop(ref[len(SECRET_PREFIX):], None) is not None:
        _write(home_path, data)


def env_ref(text: str) -> str | None:
    """``env:VAR`` as a reference, None when ``text`` is not one; a bad variable name is a ChannelError."""
    if not text.startswith(ENV_PREFIX):
        return None
    name = text[len(ENV_PREFIX):]
    if not _ENV_NAME.match(name):
        raise ChannelError(f"{text!r}: an environment variable name is letters, digits and _")
    return ENV_PREFIX + name


def resolve(home_path: Path, ref: str) -> str:
    """The Apprise URL a reference names; a ChannelError saying what is missing (never the URL)."""
    if ref.startswith(ENV_PREFIX):
        value = os.environ.get(ref[len(ENV_PREFIX):], "").strip()
        if not value:
            raise ChannelError(f"the environment variable {ref[len(ENV_PREFIX):]} is not set")
        return value
    if ref.startswith(SECRET_PREFIX):
        url = read_secrets(home_path).get(ref[len(SECRET_PREFIX):])
        if not url:
            raise ChannelError(f"{ref} is not in {secrets_path(home_path)} (added on another machine? add the "
                               "channel again here, or use env:VAR)")
        return url
    raise ChannelError(f"not a channel reference: {ref[:20]!r}")


# -- showing and scrubbing --------------------------------------------------------------------------------
def _split(url: str) -> tuple[str, str, str, list[str], list[tuple[str, str]], str | None, str | None]:
    """scheme, host, port, path segments, query pairs, user, password; tolerant of odd URLs."""
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    segments = [s for s in parts.path.split("/") if s]
    # A literal "+" starts an Apprise header key (``+X-Token=...``): keep it, do not read it as a space.
    query = parse_qsl(parts.query.replace("+", "%2B"), keep_blank_values=True)
    host = parts.netloc.rsplit("@", 1)[-1]
    host = host.rsplit(":", 1)[0] if port else host  # the host as written (hostname lowercases a token)
    return (parts.scheme.lower(), host, port, segments, query, parts.username, parts.password)


def mask_url(url: str) -> str:
    """``url`` as it may be shown: the scheme, the host of host-based schemes, the port and the names of
    the query's keys; every token, path segment, password and value masked."""
    if url.startswith(ENV_PREFIX):
        return url
    scheme, host, port, segments, query, user, password = _split(url)
    shown_host = host if scheme in _HOST_SCHEMES else (MASK if host else "")
    who = f"{user}:{MASK}@" if user and password else f"{MASK}@" if user else ""
    path = "".join(f"/{MASK}" for _ in segments)
    keys = sorted({k for k, _ in query if k.lower() not in ("from", "to", "name")})
    q = "&".join(f"{k}={MASK}" for k in keys)
    return f"{scheme}://{who}{shown_host}{port}{path}" + (f"?{q}" if q else "")


def secrets_in(url: str) -> list[str]:
    """Every part of ``url`` that may be a credential, in each spelling a log line could carry, longest
    first: the user's password, path segments, query values (``+Header`` values among them) and the host of
    token-based schemes (``slack://TOKEN_A/...``)."""
    scheme, host, _port, segments, query, user, password = _split(url)
    found: set[str] = set(segments)
    found.update(v for _, v in query)
    if password:
        found.add(password)
    if host and scheme not in _HOST_SCHEMES:
        found.add(host)
    # What a short, common value would mask all over a message is no secret worth hiding ("yes", "POST").
    found = {f for f in found if len(f) >= 6}
    spelled = set(found)
    for s in found:
        spelled.update({quote(s, safe=""), quote_plus(s), unquote(s)})
        # Apprise's privacy URLs keep a token's first and last characters ("T...2").
        spelled.add(f"{s[0]}...{s[-1]}")
    return sorted((s for s in spelled if s), key=len, reverse=True)


def scrub(text: str, urls: list[str]) -> str:
    """``text`` without any secret of ``urls`` and without the path, query or password of any URL it
    holds (Apprise's logs name the webhook URL it posted to)."""
    out = text
    for url in urls:
        out = out.replace(url, mask_url(url))
    for url in urls:
        for secret in secrets_in(url):
            out = out.replace(secret, MASK)

    def _mask(m: re.Match[str]) -> str:
        scheme, authority, rest = m.group(1), m.group(2), m.group(3)
        host = authority.rsplit("@", 1)[-1]
        return f"{scheme}://{host}" + ("/" + MASK if rest.strip("/") else "")

    return _ANY_URL.sub(_mask, out)
