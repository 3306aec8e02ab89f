"""A records URL: the driver a plain postgresql:// gets, the password shown as ***, in the user part, the
query or a driver's message, and the one-line message for a driver that is not installed."""

from __future__ import annotations

import pytest

from storage.records_url import RecordsUrlError, missing_driver, parse, redact_url, scrub


@pytest.mark.parametrize(("url", "driver"), [
    ("postgresql://ana@db/finops", "postgresql+psycopg"),
    ("postgres://ana@db/finops", "postgresql+psycopg"),
    ("postgresql+psycopg2://ana@db/finops", "postgresql+psycopg2"),
    ("sqlite:////tmp/r.sqlite", "sqlite"),
])
def test_a_plain_postgresql_url_gets_psycopg_3(url: str, driver: str) -> None:
    assert parse(url).drivername == driver


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://ana:s3cret@db:5432/finops", "postgresql://ana:***@db:5432/finops"),
    ("postgresql://ana:p%40ss%2Fw@db/finops", "postgresql://ana:***@db/finops"),
    ("postgresql://ana@db/finops?password=s3cret&sslmode=require",
     "postgresql://ana@db/finops?password=***&sslmode=require"),
    ("postgresql://ana@db/finops", "postgresql://ana@db/finops"),
    ("sqlite:////home/ana/records.sqlite", "sqlite:////home/ana/records.sqlite"),
])
def test_the_password_is_shown_as_stars(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_scrub_hides_every_spelling_of_the_password() -> None:
    url = "postgresql://ana:p@ss w%rd@db/finops".replace("p@ss w%rd", "p%40ss%20w%25rd")
    message = f"cannot use {url}: driver said password 'p@ss w%rd' (p%40ss%20w%25rd) is wrong"
    cleaned = scrub(message, url)
    assert "p@ss" not in cleaned and "p%40ss" not in cleaned
    assert cleaned == "cannot use postgresql://ana:***@db/finops: driver said password '***' (***) is wrong"


def test_a_url_that_is_no_url_is_bad_input() -> None:
    with pytest.raises(RecordsUrlError, match="not a database URL") as caught:
        parse("ana:s3cret@db/finops")
    assert isinstance(caught.value, ValueError)  # the command line exits 2


def test_a_missing_driver_names_the_extra_or_the_package() -> None:
    pg = missing_driver("postgresql://ana:s3cret@db/finops", ModuleNotFoundError(name="psycopg"))
    assert str(pg) == ("the records store postgresql://ana:***@db/finops needs the postgresql driver 'psycopg', "
                       "which is not installed; install it with: pip install 'finops-tui[postgres]'")
    other = missing_driver("mysql+pymysql://ana@db/finops", ModuleNotFoundError(name="pymysql"))
    assert "install the Python package 'pymysql'" in str(other)
