"""Posts hostile files to POST /offerings/upload, one forked process per file, and measures.

Run by tests/app/test_upload_limits.py as ``python -m tests.app.upload_probe`` with a JSON
request on stdin: an app config (its own instance folder, or the test run's
PostgreSQL database) and the names of the cases. It creates the tables and a
signed-in vendor once, then for each case builds the file and forks: the child
posts it through Flask's test client and reports the status, the page's text, the
seconds taken, the memory growth two ways, and the offerings in the database
afterwards. A forked child starts its own ``ru_maxrss`` high-water mark at its
current size (a process started with exec inherits its parent's), so the figure
belongs to that one request. Prints one JSON object: case → result.
"""

from __future__ import annotations

import gc
import json
import os
import re
import resource
import struct
import sys
import time
import traceback
import tracemalloc
import zlib
from collections.abc import Callable
from html import unescape
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from market import create_app
from market.core.extensions import db
from market.models import Offering, Organization, User

UPLOAD = "/offerings/upload"
EMAIL = "vendor@upload-probe.example.com"
PASSWORD = "upload-probe-password-9"
MB = 1024 * 1024
TEMPLATE_HEADER = "标题*,分类代码*,详细描述*"
GOOD_ROW = "设备上云,platform.equipment_cloud,采集注塑机数据，提供 OEE 看板"

# --- building workbooks cheaply --------------------------------------------------------------
#
# zipfile would deflate (and checksum) every byte of a gigabyte sheet. Deflate output
# after a full flush does not depend on what came before, so a block compressed once
# can be repeated; the CRC-32 of the repetition comes from zlib's crc32_combine.


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, index = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[index]
        vector >>= 1
        index += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, matrix[n]) for n in range(32)]


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC-32 of A+B from crc(A), crc(B) and len(B) (zlib's crc32_combine)."""
    if length2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    while True:
        even = _gf2_square(odd)
        if length2 & 1:
            crc1 = _gf2_times(even, crc1)
        length2 >>= 1
        if not length2:
            break
        odd = _gf2_square(even)
        if length2 & 1:
            crc1 = _gf2_times(odd, crc1)
        length2 >>= 1
        if not length2:
            break
    return crc1 ^ crc2


class Part:
    """One zip member as raw deflate data, its CRC-32 and its uncompressed size."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.data = bytearray()
        self.crc = 0
        self.size = 0

    def add(self, chunk: bytes, times: int = 1) -> Part:
        """Append ``chunk`` ``times`` over, compressing it only once."""
        packed = self._compressor.compress(chunk) + self._compressor.flush(zlib.Z_FULL_FLUSH)
        self.data += packed * times
        crc, length = zlib.crc32(chunk), len(chunk)
        while times:  # binary exponentiation over the repeated block
            if times & 1:
                self.crc = crc32_combine(self.crc, crc, length)
                self.size += length
            crc, length = crc32_combine(crc, crc, length), length * 2
            times >>= 1
        return self

    def finish(self) -> Part:
        self.data += self._compressor.flush(zlib.Z_FINISH)
        return self


def zip_archive(parts: dict[str, Part], claimed_sizes: dict[str, int] | None = None) -> bytes:
    """A zip of deflated ``parts``; ``claimed_sizes`` overrides the sizes its headers declare."""
    claimed = claimed_sizes or {}
    body, directory = bytearray(), bytearray()
    for name, part in parts.items():
        encoded, size = name.encode(), claimed.get(name, part.size)
        if size >= 0xFFFFFFFF or len(part.data) >= 0xFFFFFFFF:
            raise ValueError("parts of 4 GiB or more need zip64, which this writer omits")
        fields = (20, 0, 8, 0, 0x21, part.crc, len(part.data), size, len(encoded))
        directory += struct.pack(
            "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0, 0, len(body)
        )
        directory += encoded
        body += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", *fields, 0) + encoded + part.data
    end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(parts), len(parts), len(directory), len(body), 0
    )
    return bytes(body + directory + end)


_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
SHEET = "xl/worksheets/sheet1.xml"


def _fixed_parts(sheet: str) -> dict[str, str]:
    """The package around a worksheet stored as ``sheet`` (any name: relationships decide)."""
    return {
        "[Content_Types].xml": (
            f'<?xml version="1.0"?><Types xmlns="{_PKG}/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>'
            f'<Override PartName="/{sheet}" ContentType="{_TYPE}.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0"?><Relationships xmlns="{_PKG}/relationships">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0"?><workbook {_NS} xmlns:r="{_REL_NS}"><sheets>'
            '<sheet name="供给" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0"?><Relationships xmlns="{_PKG}/relationships">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/worksheet" Target="/{sheet}"/>'
            "</Relationships>"
        ),
    }


def _cell(text: str) -> str:
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


def _workbook(
    filler: bytes, times: int, claimed: int | None = None, sheet_name: str = SHEET
) -> bytes:
    """A workbook whose sheet (stored as ``sheet_name``) holds the template's required
    headers, then ``filler`` × ``times``."""
    header = "".join(_cell(name) for name in TEMPLATE_HEADER.split(","))
    sheet = Part().add(f'<?xml version="1.0"?><worksheet {_NS}><sheetData>'.encode())
    sheet.add(f'<row r="1">{header}</row>'.encode()).add(filler, times)
    sheet.add(b"</sheetData></worksheet>").finish()
    fixed = _fixed_parts(sheet_name)
    parts = {name: Part().add(text.encode()).finish() for name, text in fixed.items()}
    parts[sheet_name] = sheet
    return zip_archive(parts, {sheet_name: claimed} if claimed is not None else None)


# --- the cases -----------------------------------------------------------------------------------


def zip_bomb() -> bytes:
    """3 GiB of sheet XML (blank space between rows) in about 3 MB of zip, sizes declared."""
    return _workbook(b" " * MB, 3 * 1024)


def zip_bomb_lying() -> bytes:
    """The same inflation, but the archive claims the sheet holds 1 kB."""
    return _workbook(b" " * MB, 3 * 1024, claimed=1024)


def million_rows_xlsx() -> bytes:
    return _workbook(f"<row>{_cell('x')}</row>".encode() * 1000, 1000)


def rows_in_a_bin_part() -> bytes:
    """150,000 rows in a worksheet stored as sheet1.bin: openpyxl reads it all the same."""
    rows = f"<row>{_cell('x')}</row>".encode() * 1000
    return _workbook(rows, 150, sheet_name="xl/worksheets/sheet1.bin")


def million_rows_csv() -> bytes:
    return (TEMPLATE_HEADER + "\r\n" + "x,y,z\r\n" * 1_000_000).encode()


def good_csv() -> bytes:
    return f"{TEMPLATE_HEADER}\r\n{GOOD_ROW}\r\n".encode("utf-8-sig")


def png_named_xlsx() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64


def executable_named_csv() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + bytes(range(256)) * 64


def over_size() -> bytes:
    return good_csv() + b"x" * (9 * MB)


# case → (file name, builder); the names are sent exactly as written here.
CASES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "png_named_xlsx": ("offerings.xlsx", png_named_xlsx),
    "executable_named_csv": ("offerings.csv", executable_named_csv),
    "zip_bomb": ("bomb.xlsx", zip_bomb),
    "zip_bomb_lying_sizes": ("bomb.xlsx", zip_bomb_lying),
    "million_rows_csv": ("rows.csv", million_rows_csv),
    "million_rows_xlsx": ("rows.xlsx", million_rows_xlsx),
    "rows_in_a_bin_part": ("rows.xlsx", rows_in_a_bin_part),
    "traversal_slashes": ("../../etc/passwd.xlsx", good_csv),
    "traversal_backslashes": ("..\\..\\x.csv", good_csv),
    "over_size_body": ("offerings.csv", over_size),
    "control_good_csv": ("供给 (1).csv", good_csv),
}


def multipart(filename: str, content: bytes) -> tuple[bytes, str]:
    """A multipart body carrying ``filename`` byte for byte (quoted-string escaped)."""
    boundary = "----upload-probe-7f3a"
    quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), boundary


# --- measuring -----------------------------------------------------------------------------------


def _rss_kb() -> int:
    """This process's resident memory now, in kB (the unit of ru_maxrss on Linux)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() // 1024


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _offerings(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Offering)) or 0


def measure(app: Flask, client: FlaskClient, body: bytes, boundary: str) -> dict[str, Any]:
    """Post ``body`` twice: timed, with the kernel's memory figure and the offerings it
    added, then again under tracemalloc."""
    content_type = f"multipart/form-data; boundary={boundary}"
    offerings_before = _offerings(app)
    gc.collect()
    before = _rss_kb()
    started = time.perf_counter()
    response = client.post(UPLOAD, data=body, content_type=content_type)
    elapsed = time.perf_counter() - started
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    added = _offerings(app) - offerings_before
    # tracemalloc slows Python down, so the time above is taken without it.
    gc.collect()
    tracemalloc.start()
    client.post(UPLOAD, data=body, content_type=content_type)
    _current, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "status": response.status_code,
        "text": _text(response.get_data(as_text=True)),
        "seconds": elapsed,
        "rss_growth_mb": max(rss_growth, 0) / 1024,
        "traced_peak_mb": traced_peak / MB,
        "body_mb": len(body) / MB,
        "offerings_added": added,
    }


def _in_child(app: Flask, client: FlaskClient, body: bytes, boundary: str) -> dict[str, Any]:
    """Run ``measure`` in a forked child; returns what it reported."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe and leave without cleanup
        os.close(read_end)
        try:
            with app.app_context():
                db.engine.dispose(close=False)  # the parent's connections stay the parent's
            report = measure(app, client, body, boundary)
        except BaseException:
            report = {"error": traceback.format_exc()}
        with os.fdopen(write_end, "w") as out:
            json.dump(report, out, ensure_ascii=False)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as incoming:
        report = json.load(incoming)
    os.waitpid(pid, 0)
    return dict(report)


def _vendor(app: Flask) -> None:
    with app.app_context():
        db.create_all()
        org = Organization(
            ref="O-PROBE",
            name="上传探针科技有限公司",
            kind="solution_provider",
            province="江苏省",
            city="苏州市",
            industries=["C36"],
            verified=True,
        )
        user = User(email=EMAIL, name="上传探针", org=org, role="org_admin")
        user.set_password(PASSWORD)
        db.session.add_all([org, user])
        db.session.commit()


def run(request: dict[str, Any]) -> dict[str, Any]:
    """The measurements of every case in ``request["cases"]``, by case name."""
    app = create_app(request["config"])
    _vendor(app)
    client = app.test_client()
    signed_in = client.post("/auth/login", data={"email": EMAIL, "password": PASSWORD})
    if signed_in.status_code != 302:
        raise RuntimeError(f"the probe's vendor could not sign in: {signed_in.status_code}")
    client.get(UPLOAD)  # templates compiled before anything is measured
    results: dict[str, Any] = {}
    try:
        for case in request["cases"]:
            filename, build = CASES[case]
            body, boundary = multipart(filename, build())
            results[case] = _in_child(app, client, body, boundary)
            del body
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
    return results


if __name__ == "__main__":
    print(json.dumps(run(json.load(sys.stdin)), ensure_ascii=False))
