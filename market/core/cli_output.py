"""What every ``market`` command prints: one-line errors and progress bars on stderr."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

import click


def fail(message: str) -> None:
    """Exit 1 with ``message`` on one line of stderr."""
    click.echo(f"error: {' '.join(message.split())}", err=True)
    sys.exit(1)


class ProgressBar:
    """A click progress bar on stderr, opened on the first report (when the total is known)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.shown = 0

    def update(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.__exit__(exc_type, exc, tb)
