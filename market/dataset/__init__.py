"""The data set: records (the one validator), import/export, bulk upload, the XLSX scan."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from market.dataset.commands import dataset_commands

    for command in dataset_commands:
        app.cli.add_command(command)
