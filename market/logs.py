"""Logging that user input cannot forge: CR/LF in messages are escaped on output."""

from __future__ import annotations

import logging

from flask import Flask


class SingleLineFormatter(logging.Formatter):
    """Escapes line breaks in the message itself; the traceback (added after) keeps its lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = record.message.replace("\r", "\\r").replace("\n", "\\n")
        return super().formatMessage(record)


def init_app(app: Flask) -> None:
    logger = logging.getLogger("market")
    if any(isinstance(h.formatter, SingleLineFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(SingleLineFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    logger.propagate = False
