"""NUL characters in input get a clear 4xx on every database, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_park


@pytest.mark.parametrize("url", ["/parks/?q=%00", "/offerings/?q=MES%00", "/needs/?province=%00"])
def test_nul_in_a_query_string_gets_a_clear_400(client: Any, app: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert "空字符" in response.get_data(as_text=True)


def test_nul_in_a_path_parameter_is_not_found(client: Any, app: Any) -> None:
    make_park(ref="P-SIP")
    assert client.get("/parks/P-SIP%00").status_code == 404
    assert client.get("/api/v1/parks/P-SIP%00").status_code == 404


def test_nul_in_a_form_gets_400_and_signs_nobody_in(client: Any, app: Any) -> None:
    response = client.post("/auth/login", data={"email": "a\x00@example.com", "password": "x"})
    assert response.status_code == 400
    assert client.get("/auth/account").status_code == 302
