"""A cheap look inside an XLSX archive before a spreadsheet library parses it.

openpyxl parses with the standard library's ElementTree and keeps what it has read:
a worksheet without a ``<dimension>`` element is read to its end just to size it,
every shared string is built into an object, and a ``<!DOCTYPE>`` may declare
entities that expand as they are read. A few kilobytes of zip can so cost minutes
and gigabytes. This module streams each part through expat, keeping nothing but
counters, and stops at the first limit passed — so refusing a hostile file costs
about as much as reading the part of it that is within the limits.

It knows nothing of Flask or of the upload's messages: it raises ``ScanError``
subclasses that say which limit was passed, and the caller words the refusal.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from typing import IO, Any
from xml.parsers import expat

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """How much an acceptable workbook may hold.

    ``uncompressed``: bytes of all parts together, as the archive declares them;
    ``members``: parts in the archive; per XML part: ``rows``, the highest row number
    and the number of row elements; ``cells``, cell elements; ``strings``, shared-string
    entries; ``elements``, elements of any kind.
    """

    uncompressed: int
    members: int
    rows: int
    cells: int
    strings: int
    elements: int


class ScanError(Exception):
    """The archive is not one to hand to the parser."""


class Inflated(ScanError):
    """The parts would inflate past ``Limits.uncompressed``, number too many, or one part
    holds more than ``Limits.elements`` elements."""


class TooManyRows(ScanError):
    """A worksheet reaches past ``Limits.rows`` rows or holds more than ``Limits.cells`` cells."""


class TooManyStrings(ScanError):
    """The shared-strings table holds more than ``Limits.strings`` entries."""


class Malformed(ScanError):
    """A part is not well-formed XML, declares a DOCTYPE, or fails its checksum."""


class _Stop(Exception):
    """Raised inside an expat handler to abandon the parse at once."""

    def __init__(self, error: ScanError) -> None:
        super().__init__(type(error).__name__)
        self.error = error


def scan(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Check ``archive`` against ``limits`` without building any document in memory.

    Returns None when every part is within the limits; raises Inflated,
    TooManyRows, TooManyStrings or Malformed (all ScanError) otherwise.
    """
    members = archive.infolist()
    # What the archive declares bounds the work: zipfile stops reading a part at its
    # declared size (and fails its CRC check if the data holds more).
    if len(members) > limits.members or sum(m.file_size for m in members) > limits.uncompressed:
        raise Inflated()
    for member in members:
        if member.is_dir():
            continue
        # Every part that holds XML, whatever its name: openpyxl follows the package's
        # relationships to a worksheet called sheet1.bin as readily as to sheet1.xml.
        # What is not XML (images, printer settings) no XML parser will read either.
        with archive.open(member) as stream:
            try:
                head = stream.read(CHUNK)
            except (zipfile.BadZipFile, zlib.error, EOFError, ValueError):
                raise Malformed() from None
            if _is_xml(head):
                _parse(head, stream, _PartCounter(limits))


def _is_xml(head: bytes) -> bool:
    """Whether a part starting with ``head`` is XML as expat would read it: a ``<`` after
    an optional byte-order mark and blank space, in UTF-8 or UTF-16."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")):
        return True
    return head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").startswith(b"<")


class _PartCounter:
    """Counts one part's elements as expat reports them; raises _Stop past a limit."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.elements = 0
        self.row = 0
        self.row_elements = 0
        self.cells = 0
        self.strings = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        if self.elements > self.limits.elements:
            raise _Stop(Inflated())
        local = name.rpartition(" ")[2]
        if local == "row":
            self.row_elements += 1
            number = attrs.get("r", "")
            # As the parser reads it: a row without a number follows the previous one.
            self.row = int(number) if number.isdigit() else self.row + 1
            if max(self.row, self.row_elements) > self.limits.rows:
                raise _Stop(TooManyRows())
        elif local == "c":
            self.cells += 1
            if self.cells > self.limits.cells:
                raise _Stop(TooManyRows())
        elif local == "si":
            self.strings += 1
            if self.strings > self.limits.strings:
                raise _Stop(TooManyStrings())


def _refuse_doctype(*_args: Any) -> None:
    # No part of a workbook has a DOCTYPE; one that does may declare entities.
    raise _Stop(Malformed())


def _parse(head: bytes, stream: IO[bytes], counter: _PartCounter) -> None:
    """Feed ``head`` and then the rest of ``stream`` to expat, counting as it goes."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    parser.StartElementHandler = counter.start
    try:
        chunk = head
        while chunk:
            parser.Parse(chunk, False)
            chunk = stream.read(CHUNK)
        parser.Parse(b"", True)
    except _Stop as stop:
        raise stop.error from None
    except (expat.ExpatError, zipfile.BadZipFile, zlib.error, EOFError, ValueError):
        raise Malformed() from None
