"""Hostile uploads to POST /offerings/upload: refused fast, clearly, and cheaply.

Each file (built in tests/app/upload_probe.py) goes through the real route with a
signed-in vendor, in a forked process of its own so the memory high-water mark
belongs to that one request. The answer must be a 4xx with a specific Chinese
message, within 2 seconds, with less than 200 MB of memory growth (both as the
kernel counts the process's peak and as tracemalloc counts Python's allocations),
and with no offering added. A good file under a plain name is the control.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.app.upload_probe import CASES

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 2.0
MEMORY_MB = 200.0

# case → (status, words the page must show); the control comes last, as it adds a row.
EXPECTED: dict[str, tuple[int, str]] = {
    "png_named_xlsx": (400, "不是 Excel（.xlsx）或 CSV 文件"),
    "executable_named_csv": (400, "无法识别文件内容"),
    "zip_bomb": (413, "Excel 文件解压后过大"),
    "zip_bomb_lying_sizes": (400, "无法读取该 Excel 文件"),
    "million_rows_csv": (413, "行的上限"),
    "million_rows_xlsx": (413, "行的上限"),
    "rows_in_a_bin_part": (413, "行的上限"),
    "traversal_slashes": (400, "文件名无效"),
    "traversal_backslashes": (400, "文件名无效"),
    "over_size_body": (413, "上传的内容过大，不能超过 8 MB"),
}
CONTROL = "control_good_csv"


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory, database_url: str | None) -> dict[str, Any]:
    """Every case's measurements, from one run of the probe (which forks per case)."""
    config: dict[str, Any] = {
        "TESTING": True,
        "INSTANCE": str(tmp_path_factory.mktemp("upload-probe")),
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
    }
    if database_url:
        config["DATABASE_URL"] = database_url
    request = {"config": config, "cases": [*EXPECTED, CONTROL]}
    done = subprocess.run(
        [sys.executable, "-m", "tests.app.upload_probe"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_every_probe_case_has_an_expectation() -> None:
    assert set(CASES) == {*EXPECTED, CONTROL}


@pytest.mark.parametrize("case", list(EXPECTED))
def test_hostile_upload_is_refused_fast_clearly_and_cheaply(
    probe: dict[str, Any], case: str
) -> None:
    result = probe[case]
    assert "error" not in result, result.get("error")
    status, message = EXPECTED[case]
    report = {k: v for k, v in result.items() if k != "text"}

    assert result["status"] == status, (result["text"][:500], report)
    assert message in result["text"], result["text"][:500]
    assert result["offerings_added"] == 0, report
    assert result["seconds"] < SECONDS, report
    assert result["rss_growth_mb"] < MEMORY_MB, report
    assert result["traced_peak_mb"] < MEMORY_MB, report


def test_a_good_file_under_a_plain_name_is_imported(probe: dict[str, Any]) -> None:
    result = probe[CONTROL]
    assert "error" not in result, result.get("error")

    assert result["status"] == 302, result["text"][:500]
    assert result["offerings_added"] == 1
