"""Files of one embedded index and how processes share them.

``<dir>/manifest.json`` names the current snapshot: its segments (immutable
directories of ``.npy`` files), a liveness file per segment with deletions, the
settings, and ``seq``, the last change folded into it. ``<dir>/changes.sqlite``
is the change log: every write from any process appends rows (SQLite serialises
writers), and every process applies the rows after the snapshot's ``seq`` to an
in-memory delta before it searches, so a write in one gunicorn worker is seen
by the others at their next query. Replacing the snapshot (compaction, bulk
loads, reset) happens under an ``fcntl`` lock and ends with an atomic rename of
the manifest; a reader that raced with it notices the new generation and
reloads.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from search.types import IndexSettings

MANIFEST = "manifest.json"


@dataclass
class Manifest:
    generation: int = 0
    seq: int = 0
    settings: dict[str, Any] | None = None
    segments: list[dict[str, Any]] = field(default_factory=list)  # {"name", "alive"}

    @property
    def index_settings(self) -> IndexSettings | None:
        return IndexSettings.from_json(self.settings) if self.settings else None


class Store:
    """The directory of one index (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._lock = threading.Lock()

    # -- manifest ------------------------------------------------------------
    def manifest_stamp(self) -> tuple[int, int] | None:
        """A cheap identity of the manifest file (changes when it is replaced)."""
        try:
            st = (self.path / MANIFEST).stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns

    def read_manifest(self) -> Manifest:
        try:
            data = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return Manifest()
        return Manifest(data["generation"], data["seq"], data.get("settings"), data["segments"])

    def write_manifest(self, manifest: Manifest) -> None:
        """Atomically replace the manifest, then delete files it no longer names."""
        tmp = self.path / f".{MANIFEST}.{os.getpid()}.tmp"
        tmp.write_text(
            json.dumps(
                {
                    "generation": manifest.generation,
                    "seq": manifest.seq,
                    "settings": manifest.settings,
                    "segments": manifest.segments,
                }
            ),
            encoding="utf-8",
        )
        os.replace(tmp, self.path / MANIFEST)
        keep = {s["name"] for s in manifest.segments} | {
            s["alive"] for s in manifest.segments if s.get("alive")
        }
        # Processes that still map an old segment keep reading it: on POSIX an
        # unlinked file lives on until its last mapping is gone.
        for entry in self.path.iterdir():
            if entry.name.startswith(("seg-", "alive-")) and entry.name not in keep:
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)

    def save_alive(self, name: str, generation: int, alive: npt.NDArray[np.bool_]) -> str:
        """Write a liveness mask for segment ``name``; returns its file name."""
        fname = f"alive-{name}-g{generation}.npy"
        np.save(self.path / fname, alive, allow_pickle=False)
        return fname

    def load_alive(self, fname: str) -> npt.NDArray[np.bool_]:
        alive: npt.NDArray[np.bool_] = np.load(self.path / fname, allow_pickle=False)
        return alive

    def new_segment_name(self, generation: int, i: int) -> str:
        return f"seg-g{generation:06d}-{i:04d}-{os.getpid()}"

    @contextlib.contextmanager
    def snapshot_lock(self, blocking: bool = True) -> Iterator[bool]:
        """Hold the exclusive lock for replacing the snapshot; yields whether it
        was acquired (always ``True`` when ``blocking``)."""
        with open(self.path / "write.lock", "a+b") as fh:
            flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
            try:
                fcntl.flock(fh, flags)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- change log ----------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        # A connection must not cross a fork (gunicorn --preload): reopen per pid.
        if self._conn is None or self._pid != os.getpid():
            conn = sqlite3.connect(
                self.path / "changes.sqlite",
                timeout=30,
                check_same_thread=False,
                isolation_level=None,
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS changes ("
                "seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT NOT NULL, body TEXT)"
            )
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def append(self, rows: Sequence[tuple[str, str | None]]) -> int:
        """Append ``(id, json body or None for a delete)`` rows; returns the last seq."""
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT INTO changes (doc_id, body) VALUES (?, ?)", rows)
                last = int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0])
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return last

    def changes_after(self, seq: int) -> list[tuple[int, str, str | None]]:
        """Rows after ``seq``, oldest first."""
        with self._lock:
            rows = (
                self._db()
                .execute("SELECT seq, doc_id, body FROM changes WHERE seq > ? ORDER BY seq", (seq,))
                .fetchall()
            )
        return [(int(s), str(i), b) for s, i, b in rows]

    def last_seq(self) -> int:
        with self._lock:
            row = self._db().execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()
            seq_row = (
                self._db()
                .execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'")
                .fetchone()
            )
        return max(int(row[0]), int(seq_row[0]) if seq_row else 0)

    def forget_until(self, seq: int) -> None:
        """Drop change rows folded into a snapshot (``seq`` and before)."""
        with self._lock:
            self._db().execute("DELETE FROM changes WHERE seq <= ?", (seq,))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None


def encode(doc: dict[str, Any]) -> str:
    """A document as stored in the change log."""
    return json.dumps(doc, ensure_ascii=False, default=str)


def decode(body: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(body)
    return data
