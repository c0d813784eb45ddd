"""Labelled CSV files: a text column and a 0/1 label column, for `keywords evaluate` and `ranker evaluate`.

The files come from analysts' spreadsheets and from published data sets, so the reader takes them as they come:
UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), else Windows-1252; comma, semicolon
(Excel in French locales) or tab as the delimiter, whichever the header line holds the named columns with;
labels written 0/1, 0.0/1.0, true/false or yes/no; texts of any length. Rows an analyst never labelled (empty,
NA, unsure...) stop the reading unless the caller asks to leave them out, so a half-labelled file is never
measured silently. Anything else is an `InputError` whose message is one line naming the file and the line.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

LABELS = {"1": 1, "0": 0, "1.0": 1, "0.0": 0, "true": 1, "false": 0, "yes": 1, "no": 0}
UNLABELLED = {"", "na", "n/a", "nan", "null", "none", "unsure", "?"}
DELIMITERS = (",", ";", "\t")
# Texts are read whole, like the listings the crawl stores; the csv module's 128 KiB default would refuse them.
MAX_FIELD = 64 * 1024 * 1024


class InputError(ValueError):
    """Bad input: the message is one line naming the problem; `missing` names the columns not found, if any."""

    def __init__(self, message: str, missing: tuple[str, ...] = ()):
        super().__init__(message)
        self.missing = missing


@dataclass
class Labelled:
    texts: list[str]
    labels: list[int]
    columns: dict[str, list[str]] = field(default_factory=dict)  # the other columns asked for, row by row
    skipped: int = 0  # rows left out because nobody labelled them


def decode(raw: bytes, path: Path) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(f"{path}: starts as UTF-16 but is not valid UTF-16") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _delimiter(text: str, wanted: list[str]) -> str:
    header = text.split("\n", 1)[0]
    for delimiter in DELIMITERS:
        names = next(csv.reader([header], delimiter=delimiter), [])
        if all(w in names for w in wanted):
            return delimiter
    return ","


def read(path: Path, text_column: str, label_column: str, *, other_columns: tuple[str, ...] = (),
         skip_unlabelled: bool = False) -> Labelled:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    text = decode(raw, path)
    wanted = [text_column, label_column, *other_columns]
    csv.field_size_limit(MAX_FIELD)
    # strict: an unclosed quote would otherwise swallow the rest of the file into one text, silently
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(text, wanted), strict=True)
    try:
        columns = reader.fieldnames or []
    except csv.Error as exc:
        raise InputError(f"{path}:1: not a CSV header ({exc})") from None
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise InputError(f"{path}: no column {', '.join(repr(c) for c in missing)} "
                         f"(columns: {', '.join(repr(c) for c in columns) or 'none'})", tuple(missing))
    out = Labelled([], [], {c: [] for c in other_columns})
    try:
        for row in reader:
            value = (row.get(label_column) or "").strip().lower()
            if value in UNLABELLED and skip_unlabelled:
                out.skipped += 1
                continue
            if value not in LABELS:
                hint = " (or leave such rows out with --skip-unlabelled)" if value in UNLABELLED else ""
                raise InputError(f"{path}:{reader.line_num}: label must be 0 or 1 (also true/false, yes/no), got "
                                 f"{row.get(label_column)!r} in column {label_column!r}{hint}")
            out.texts.append(row.get(text_column) or "")
            out.labels.append(LABELS[value])
            for c in other_columns:
                out.columns[c].append(row.get(c) or "")
    except csv.Error as exc:
        raise InputError(f"{path}:{reader.line_num}: {exc}") from None
    return out
