"""The embedded record store: the same records as DynamoDB, as JSON rows in SQLite.

Conditional writes run inside `BEGIN IMMEDIATE` transactions, so two workers racing on one
key behave as DynamoDB's condition expressions would: the older version loses.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import TransientError
from ..records import RecordType

_IN_LIMIT = 500  # ids per IN (...) query, well under SQLite's variable limit
_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    source_order TEXT,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_type ON records (type, id);
"""


class SqliteRecordStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.name = f"sqlite:///{self.path}"
        self._local = threading.local()
        try:
            self._connection().executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise TransientError(f"Cannot prepare the record store {self.path}: {exc}.") from exc

    def get(self, record_id: str) -> dict | None:
        row = self._query("SELECT body FROM records WHERE id = ?", (record_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def get_many(self, record_ids: Iterable[str]) -> dict[str, dict]:
        ids = list(dict.fromkeys(record_ids))
        found = {}
        for start in range(0, len(ids), _IN_LIMIT):
            chunk = ids[start : start + _IN_LIMIT]
            rows = self._query(f"SELECT id, body FROM records WHERE id IN "
                               f"({', '.join('?' * len(chunk))})", tuple(chunk)).fetchall()
            found.update((record_id, json.loads(body)) for record_id, body in rows)
        return found

    def put(self, record: dict) -> None:
        with self._transaction() as db:
            _upsert(db, record)

    def put_unless_newer(self, record: dict) -> bool:
        with self._transaction() as db:
            row = db.execute(
                "SELECT source_order FROM records WHERE id = ?", (record["id"],)
            ).fetchone()
            if row and row[0] and row[0] > (record.get("sourceOrder") or ""):
                return False
            _upsert(db, record)
            return True

    def add_error(self, record: dict) -> dict:
        with self._transaction() as db:
            row = db.execute("SELECT body FROM records WHERE id = ?", (record["id"],)).fetchone()
            previous = json.loads(row[0]).get("retryCount", 0) if row else 0
            record = {**record, "retryCount": previous + 1}
            _upsert(db, record)
            return record

    def delete(self, record_ids: Iterable[str]) -> None:
        with self._transaction() as db:
            db.executemany("DELETE FROM records WHERE id = ?", [(i,) for i in record_ids])

    def scan(self, record_type: str | None = None) -> Iterator[dict]:
        if record_type is None:
            rows = self._query("SELECT body FROM records ORDER BY id", ())
        else:
            rows = self._query(
                "SELECT body FROM records WHERE type = ? ORDER BY id", (record_type,)
            )
        for (body,) in rows.fetchall():
            yield json.loads(body)

    def errors(self) -> Iterator[dict]:
        return self.scan(RecordType.ERROR)

    # --- connections ----------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """One connection per thread (`reprocess --workers` uses threads)."""
        db = getattr(self._local, "db", None)
        if db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
            except (sqlite3.Error, OSError) as exc:
                raise TransientError(f"Cannot open the record store {self.path}: {exc}.") from exc
            self._local.db = db
        return db

    def _query(self, sql: str, params: tuple) -> sqlite3.Cursor:
        try:
            return self._connection().execute(sql, params)
        except sqlite3.Error as exc:
            raise TransientError(f"The record store {self.path} failed: {exc}.") from exc

    @contextmanager
    def _transaction(self):
        db = self._connection()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise TransientError(f"The record store {self.path} failed: {exc}.") from exc


def _upsert(db: sqlite3.Connection, record: dict) -> None:
    db.execute(
        "INSERT INTO records (id, type, source_order, body) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET type = excluded.type, "
        "source_order = excluded.source_order, body = excluded.body",
        (record["id"], record.get("type", ""), record.get("sourceOrder"),
         json.dumps(record, ensure_ascii=False)),
    )
