"""Logging that user input cannot forge.

Every record is one line starting with its timestamp. Line breaks and other control
characters in the message (which may carry what a user typed) are escaped; the
lines of an attached traceback are indented, so even an exception text holding a
line break cannot produce a line that looks like a record of its own.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# C0 and C1 control characters and the Unicode line and paragraph separators: all
# of them end a line for some log viewer or for str.splitlines().
_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}
CONTINUATION = "  | "


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def escape(text: str) -> str:
    """``text`` with line breaks and control characters written as escapes (\\r, \\n, \\x1b …)."""
    return _BREAKING.sub(_escape_char, text)


class SingleLineFormatter(logging.Formatter):
    """One line per record: the message escaped, traceback lines indented below it."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape(record.message)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        first, *rest = super().format(record).split("\n")
        return "\n".join([first, *(CONTINUATION + escape(line) for line in rest)])


def init_app(app: Flask) -> None:
    logger = logging.getLogger("market")
    if not any(isinstance(h.formatter, SingleLineFormatter) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(SingleLineFormatter(FORMAT))
        logger.addHandler(handler)
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    logger.propagate = False
