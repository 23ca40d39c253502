"""Data-set commands: import and export (filled in by the data-set service)."""

from __future__ import annotations

import click

dataset_commands: list[click.Command] = []
