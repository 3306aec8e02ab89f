"""How failures reach a person on the command line: one clear line, a meaningful exit code.

Bad input (a file, an option, a config key) exits 2; an operation that could not be done right now
(a busy store, an unreachable service) exits 1. Never a traceback for either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from exports.sanitize import plain

EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2


class _Sanitised(click.ClickException):
    """An error line never carries a terminal control sequence (file names and values come from users)."""

    def __init__(self, message: str) -> None:
        super().__init__(plain(message, one_line=True))


class BadInput(_Sanitised):
    exit_code = EXIT_BAD_INPUT


class Failed(_Sanitised):
    exit_code = 1


def echo(message: Any = "", **kwargs: Any) -> None:
    """``click.echo`` of text that passed the sanitiser: every line a command prints goes through here."""
    click.echo(plain(message), **kwargs)


def cell(value: Any) -> str:
    """A value for a padded text table: sanitised and on one line, so its width is the width shown."""
    return plain(value, one_line=True)


# JSON escapes C0 controls itself; DEL and the C1 controls (U+0080-U+009F, which some terminals obey as
# escape sequences) are written as \u escapes too. They occur only inside strings, so the value is unchanged.
_JSON_CONTROLS = re.compile("[\x7f-\x9f]")


@contextmanager
def handle_errors() -> Iterator[None]:
    from storage.config import ConfigError
    from storage.costs import CostStoreError

    try:
        yield
    except ConfigError as exc:
        raise BadInput(f"config: {exc}") from exc
    except CostStoreError as exc:
        # The warehouse's errors (storage.warehouse): a bound, a missing table or refused access is the
        # configuration's to fix (exit 2); a query Athena failed, or an unreachable service, exits 1.
        kind = type(exc).__name__
        if kind in ("ScanLimitExceeded", "WarehouseMissingTable", "WarehouseAccessDenied"):
            raise BadInput(f"warehouse: {exc}") from exc
        if kind in ("WarehouseError", "WarehouseQueryFailed"):
            raise Failed(f"warehouse: {exc}") from exc
        raise Failed(str(exc)) from exc
    except ValueError as exc:
        # Storage and ritual code raise ValueError only for input that does not make sense.
        raise BadInput(str(exc)) from exc
    except RuntimeError as exc:
        if type(exc).__name__ == "RecordsError":
            raise Failed(str(exc)) from exc
        raise


def echo_json(obj: Any) -> None:
    """DESIGN.md's JSON rules: one object, missing values as null (never NaN)."""
    text = json.dumps(_clean(obj), indent=2, ensure_ascii=False, default=_default)
    click.echo(_JSON_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return None if obj != obj or obj in (float("inf"), float("-inf")) else obj
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, str):
        try:
            return _clean(obj.item())
        except (ValueError, AttributeError):
            return obj
    if obj is not None and type(obj).__name__ in ("NAType", "NaTType"):
        return None
    return obj
