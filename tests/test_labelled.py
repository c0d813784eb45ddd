"""Labelled CSVs as analysts' spreadsheets and published data sets write them (wildwatch/labelled.py)."""
from __future__ import annotations

import pytest

from wildwatch import labelled


def _file(tmp_path, data: bytes):
    path = tmp_path / "labelled.csv"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("data", [
    "text,label\nmeno ya tembo,1\nbangili ya plastiki,0\n".encode(),
    "\ufefftext,label\r\nmeno ya tembo,1\r\nbangili ya plastiki,0\r\n".encode(),  # Excel's UTF-8 with BOM
    "text\tlabel\nmeno ya tembo\t1\nbangili ya plastiki\t0\n".encode("utf-16"),  # Excel's "Unicode text"
    "text;label\nmeno ya tembo;1\nbangili ya plastiki;0\n".encode("cp1252"),  # a French-locale Excel
    "text,label\nmeno ya tembo,1.0\nbangili ya plastiki,0.0\n".encode(),  # labels saved from pandas floats
    "text,label\nmeno ya tembo,TRUE\nbangili ya plastiki,False\n".encode(),
    "text,label\nmeno ya tembo, yes\nbangili ya plastiki,No \n".encode(),
])
def test_reads_the_ways_spreadsheets_write_the_same_file(tmp_path, data):
    got = labelled.read(_file(tmp_path, data), "text", "label")
    assert got.texts == ["meno ya tembo", "bangili ya plastiki"] and got.labels == [1, 0] and got.skipped == 0


def test_windows_1252_text_is_read_not_refused(tmp_path):
    got = labelled.read(_file(tmp_path, "text,label\nivoire sculpté – 250 €,1\n".encode("cp1252")), "text", "label")
    assert got.texts == ["ivoire sculpté – 250 €"]


def test_long_texts_and_nul_bytes_are_texts_like_any_other(tmp_path):
    long = "ivory " * 40_000  # 240,000 characters: over the csv module's default field limit
    got = labelled.read(_file(tmp_path, f'text,label\n"{long}",1\nx\x00y,0\n'.encode()), "text", "label")
    assert got.texts == [long, "x\x00y"]


def test_unlabelled_rows_refused_by_default_left_out_and_counted_when_asked(tmp_path):
    path = _file(tmp_path, b"text,label\na,1\nb,NA\nc,\nd,0\ne,unsure\n")
    with pytest.raises(labelled.InputError, match=r":3: label must be 0 or 1.*'NA'.*--skip-unlabelled"):
        labelled.read(path, "text", "label")
    got = labelled.read(path, "text", "label", skip_unlabelled=True)
    assert got.texts == ["a", "d"] and got.labels == [1, 0] and got.skipped == 3


@pytest.mark.parametrize("data, problem", [
    (b"text,label\na,1\nb,2\n", ":3: label must be 0 or 1"),
    (b"text,label\na,1\nb,maybe\n", "got 'maybe'"),
    (b"title,label\na,1\n", "no column 'text' (columns: 'title', 'label')"),
    (b"", "no column 'text', 'label' (columns: none)"),
    (b'text,label\n"unterminated,1\n', "unexpected end of data"),
])
def test_bad_files_get_one_line_naming_the_problem(tmp_path, data, problem):
    # "maybe" is no unlabelled marker: skipping does not hide it
    with pytest.raises(labelled.InputError) as err:
        labelled.read(_file(tmp_path, data), "text", "label", skip_unlabelled=True)
    assert problem in str(err.value) and "\n" not in str(err.value)


def test_other_columns_come_back_row_by_row(tmp_path):
    got = labelled.read(_file(tmp_path, b"group,text,label\nivory,a,1\n,b,0\n"), "text", "label",
                        other_columns=("group",))
    assert got.columns == {"group": ["ivory", ""]}
