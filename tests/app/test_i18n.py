"""Chinese by default, English on request, and an English catalog that covers every string."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parents[2]
PO_FILE = ROOT / "market" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
# The same keywords as scripts/update-translations.sh passes to pybabel extract.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}


def _catalog() -> Catalog:
    with PO_FILE.open("rb") as fh:
        return read_po(fh, locale="en")


@pytest.fixture(scope="module")
def compiled_catalog() -> Iterator[None]:
    """Compile the English .mo when it is missing or older than the .po.

    CI compiles it during install (scripts/compile-translations.sh); this keeps a
    developer's run honest after editing the .po without recompiling.
    """
    mo_file = PO_FILE.with_suffix(".mo")
    if not mo_file.exists() or mo_file.stat().st_mtime < PO_FILE.stat().st_mtime:
        # Write then rename, so parallel test workers never read a half-written file.
        fd, tmp = tempfile.mkstemp(dir=mo_file.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as fh:
            write_mo(fh, _catalog())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the server may run as another user
        os.replace(tmp, mo_file)
    yield


def test_home_renders_chinese_by_default(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert ">园区名录</a>" in html
    assert ">供给</a>" in html
    assert ">需求</a>" in html


def test_switching_to_english_sets_cookie_and_renders_english(
    client: FlaskClient, compiled_catalog: None
) -> None:
    response = client.post("/language", data={"lang": "en", "next": "/parks/"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/parks/"
    assert "lang=en" in response.headers["Set-Cookie"]

    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert ">Park directory</a>" in html
    assert ">Offerings</a>" in html
    assert ">Needs</a>" in html
    assert "园区名录" not in html
    assert "Browse offerings by area" in html
    assert ">Network</h3>" in html  # category labels follow the language too


def test_switching_back_to_chinese(client: FlaskClient, compiled_catalog: None) -> None:
    client.post("/language", data={"lang": "en"})
    client.post("/language", data={"lang": "zh"})
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert ">园区名录</a>" in html


def test_unsupported_language_changes_nothing(client: FlaskClient) -> None:
    response = client.post("/language", data={"lang": "fr"})
    assert response.status_code == 302
    assert "Set-Cookie" not in response.headers
    assert '<html lang="zh-CN">' in client.get("/").get_data(as_text=True)


def test_language_switch_does_not_redirect_off_site(client: FlaskClient) -> None:
    response = client.post("/language", data={"lang": "en", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_english_catalog_translates_every_message() -> None:
    untranslated = []
    for message in _catalog():
        if not message.id:
            continue  # the header
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(s and s.strip() for s in strings):
            untranslated.append(message.id)
    assert untranslated == []


def test_english_translations_keep_their_placeholders() -> None:
    problems = [
        (message.id, [str(e) for e in errors]) for message, errors in _catalog().check() if errors
    ]
    assert problems == []


def test_every_string_in_the_source_is_in_the_english_catalog() -> None:
    """A new _('…') without an English translation fails here: run
    scripts/update-translations.sh, translate the new entries, and commit the .po."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    catalog = _catalog()
    missing = set()
    for filename, _lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if catalog.get(message if isinstance(message, str) else msgid, context) is None:
            missing.add(f"{filename}: {msgid}")
    assert sorted(missing) == []
