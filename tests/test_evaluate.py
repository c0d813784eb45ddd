"""The development set and `wildwatch keywords evaluate`."""
import csv
import json
import re
import subprocess
import sys
from pathlib import Path

from wildwatch import config, evaluate, keywords, matching

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT / "keywords" / "eval" / "devset.csv"


def test_the_development_set_is_big_and_varied_enough():
    rows = list(csv.DictReader(DEVSET.open(encoding="utf-8")))
    assert len(rows) >= 400
    assert {r["language"] for r in rows} == keywords.LANGUAGES
    groups = {r["group"] for r in rows if r["label"] == "1"}
    assert len(groups) == 13
    notes = " ".join(r["note"] for r in rows)
    assert "hard negative" in notes and "disguised" in notes
    assert len({r["text"] for r in rows}) == len(rows), "duplicate texts"


def test_the_matcher_meets_its_targets_on_the_development_set():
    matcher = matching.Matcher(keywords.load(config.load().keywords_dir))
    result = evaluate.evaluate(matcher, DEVSET, "text", "label", config.load().queue_threshold)
    assert result["recall"] >= 0.95, result["worst_false_negatives"]
    assert result["precision"] >= 0.85, result["worst_false_positives"]
    disguised = [r for r in csv.DictReader(DEVSET.open(encoding="utf-8")) if r["note"] in ("disguised", "no diacritics")]
    for row in disguised:
        assert matching.score(matcher.match_listing(row["text"], None)).value >= 1.0, row["text"]


def test_evaluate_cli_prints_figures_and_json(tmp_path):
    sample = tmp_path / "s.csv"
    sample.write_text("title,is_offer\nCarved ivory bangle,1\nIvory white dress,0\nTiger Balm,1\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "wildwatch.cli", "keywords", "evaluate", "--input", str(sample),
           "--text-column", "title", "--label-column", "is_offer"]
    out = subprocess.run(cmd + ["--json"], capture_output=True, text=True, check=True).stdout
    result = json.loads(out)
    assert (result["true_positives"], result["false_positives"], result["false_negatives"]) == (1, 0, 1)
    assert result["precision"] == 1.0 and result["recall"] == 0.5
    assert result["worst_false_negatives"][0]["text"] == "Tiger Balm"
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    assert "precision 1.000  recall 0.500" in text


def test_evaluate_by_group_and_clear_errors(tmp_path):
    sample = tmp_path / "s.csv"
    sample.write_text("text,label,group\nCarved ivory bangle,1,ivory\nRhino horn cup,1,rhino_horn\n"
                      "Ivory white dress,0,ivory\n", encoding="utf-8")
    matcher = matching.Matcher(keywords.load(config.load().keywords_dir))
    result = evaluate.evaluate(matcher, sample, "text", "label", 1.0, group="ivory")
    assert result["rows"] == 2 and result["recall"] == 1.0
    bad = subprocess.run([sys.executable, "-m", "wildwatch.cli", "keywords", "evaluate", "--input", str(sample),
                          "--text-column", "title", "--label-column", "label"], capture_output=True, text=True)
    assert bad.returncode == 1 and "no column 'title'" in bad.stderr and "Traceback" not in bad.stderr


def test_evaluate_by_a_column_gives_each_value_its_own_figures(tmp_path):
    sample = tmp_path / "s.csv"
    sample.write_text("text,label,language\nCarved ivory bangle,1,en\nTiger Balm,1,en\nVòng ngà voi,1,vi\n"
                      "Áo màu ngà,0,vi\nSamsung phone,0,\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "wildwatch.cli", "keywords", "evaluate", "--input", str(sample),
           "--text-column", "text", "--label-column", "label", "--by", "language"]
    result = json.loads(subprocess.run(cmd + ["--json"], capture_output=True, text=True, check=True).stdout)
    split = result["by"]["language"]
    assert set(split) == {"en", "vi", ""} and split["en"]["recall"] == 0.5 and split["vi"]["recall"] == 1.0
    assert split["en"]["rows"] + split["vi"]["rows"] + split[""]["rows"] == result["rows"] == 5
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    assert re.search(r"\n\s+en\s+2\s+2\s+1\.000\s+0\.500\s", text), text
    bad = subprocess.run(cmd[:-1] + ["country"], capture_output=True, text=True)
    assert bad.returncode == 1 and "--by country: no such column" in bad.stderr
