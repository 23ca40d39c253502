"""The one download helper: the names it puts into Content-Disposition."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import pytest
from werkzeug.http import parse_options_header

from market.core.downloads import content_disposition, send


def _names(value: str) -> tuple[str, str]:
    """(ASCII fallback, UTF-8 name), after checking that a client reads the UTF-8 one."""
    found = re.fullmatch(r"attachment; filename=\"([^\"]*)\"; filename\*=UTF-8''(\S+)", value)
    assert found, value
    full = unquote(found.group(2), errors="strict")
    assert parse_options_header(value) == ("attachment", {"filename": full})
    return found.group(1), full


@pytest.mark.parametrize(
    ("filename", "plain", "full"),
    [
        ("江苏省-按类别统计-2026-01-01.csv", "2026-01-01.csv", "江苏省-按类别统计-2026-01-01.csv"),
        ("report.xlsx", "report.xlsx", "report.xlsx"),
        ("Café résumé.pdf", "Cafe-resume.pdf", "Café résumé.pdf"),
        # A course title with a slash, a quote and a line break stays one harmless name.
        ('数控/编程 "初级"\r\n班.xlsx', "download.xlsx", "数控-编程 -初级-班.xlsx"),
        ("名单", "download", "名单"),
    ],
)
def test_each_name_is_given_twice_and_the_header_stays_ascii(
    filename: str, plain: str, full: str
) -> None:
    value = content_disposition(filename)
    value.encode("latin-1")  # what servers put on the wire
    assert value.isascii() and "\r" not in value and "\n" not in value
    assert _names(value) == (plain, full)


def test_send_streams_an_iterable_and_names_it(app: Any) -> None:
    with app.test_request_context():
        response = send(iter(["a,b\r\n", "1,2\r\n"]), "不相关反馈.csv", "text/csv")
        assert response.is_streamed
        assert response.get_data() == b"a,b\r\n1,2\r\n"
        assert _names(response.headers["Content-Disposition"])[1] == "不相关反馈.csv"
        assert response.mimetype == "text/csv"
