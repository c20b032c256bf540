"""The SQLite settings let several workers write to one database file."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.db.backends.sqlite3.base import DatabaseWrapper

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite settings")

ALIAS = "sqlite_file"


@pytest.fixture(autouse=True)
def _file_databases_allowed(django_db_blocker):
    """These tests open their own database files, not the test database."""
    with django_db_blocker.unblock():
        yield


def _use_file(path) -> None:
    """In this thread, `ALIAS` is a connection to `path` with the project's SQLite settings."""
    connections[ALIAS] = DatabaseWrapper({**connection.settings_dict, "NAME": str(path)}, ALIAS)


def test_sqlite_file_is_in_wal_mode(tmp_path):
    _use_file(tmp_path / "db.sqlite3")
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
    connections[ALIAS].close()


def test_a_transaction_that_reads_then_writes_waits_for_the_other_writer(tmp_path):
    """A deferred transaction that has read fails at once ("database is locked") when another
    worker writes before it does; an IMMEDIATE one holds the lock and the other one waits."""
    path = tmp_path / "db.sqlite3"
    _use_file(path)
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("CREATE TABLE logins (worker TEXT)")
    connections[ALIAS].close()
    first_has_read = threading.Event()
    errors: list[Exception] = []

    def worker(name: str) -> None:
        _use_file(path)
        try:
            with transaction.atomic(using=ALIAS), connections[ALIAS].cursor() as cursor:
                if name == "first":
                    cursor.execute("SELECT COUNT(*) FROM logins")
                    first_has_read.set()
                    threading.Event().wait(0.3)  # the second worker tries to write meanwhile
                cursor.execute("INSERT INTO logins VALUES (%s)", [name])
        except Exception as exc:  # noqa: BLE001 - the test reports whatever a worker raised
            errors.append(exc)
        finally:
            first_has_read.set()
            connections[ALIAS].close()

    first = threading.Thread(target=worker, args=["first"])
    first.start()
    first_has_read.wait(5)
    second = threading.Thread(target=worker, args=["second"])
    second.start()
    first.join(10)
    second.join(10)

    assert errors == []
    _use_file(path)
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("SELECT worker FROM logins ORDER BY rowid")
        assert [row[0] for row in cursor.fetchall()] == ["first", "second"]
    connections[ALIAS].close()
