"""Contacts written on photos: recall and precision of the contacts read from a planted set of demo photos
(phones in Vietnamese and Tanzanian spellings, WeChat ids after Chinese cues, painted on a white band or as
outlined letters straight on the busy picture; and photos with other text or none), and the OCR cost per
photo on one core.

Run: .venv/bin/python bench/ocr.py [--photos 60]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wildwatch import contacts, ocr  # noqa: E402
from wildwatch.demo.painted import painted  # noqa: E402

PLANTED = [  # (text painted, region, language, the contact expected)
    ("Zalo 0912 345 678", "VN", "vi", ("zalo", "+84912345678")),
    ("LH: 0987.654.321", "VN", "vi", ("phone", "+84987654321")),
    ("0903 111 222 (Zalo)", "VN", "vi", ("phone", "+84903111222")),
    ("simu 0712 345 678", "TZ", "sw", ("phone", "+255712345678")),
    ("WhatsApp +255 754 000 111", "TZ", "sw", ("whatsapp", "+255754000111")),
    ("Piga 0765 432 100", "TZ", "sw", ("phone", "+255765432100")),
    ("微信: ivory8888", "CN", "zh", ("wechat", "ivory8888")),
    ("加微信 xiangya_66", "CN", "zh", ("wechat", "xiangya_66")),
    ("V信 hongmu2024", "CN", "zh", ("wechat", "hongmu2024")),
    ("电话 138 0013 8000", "CN", "zh", ("phone", "+8613800138000")),
]
DECOYS = [("Hàng thật 100%", "VN", "vi"), ("Bei nafuu sana", "TZ", "sw"), ("包邮 正品", "CN", "zh"),
          ("Size 42 - 500g", "VN", "vi"), ("", "TZ", "sw")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=60)
    args = parser.parse_args()
    cases = []
    for i in range(args.photos):
        style = "band" if i % 2 == 0 else "outline"
        if i % 4 == 3:
            text, region, language = DECOYS[i % len(DECOYS)]
            cases.append((f"decoy-{i}", text, style, region, language, None))
        else:
            text, region, language, want = PLANTED[i % len(PLANTED)]
            cases.append((f"planted-{i}", text, style, region, language, want))
    ocr.read(painted("warm-up", "warm up"))  # the models load once
    found_right = planted = extracted = 0
    times, missed = [], []
    for seed, text, style, region, language, want in cases:
        data = painted(seed, text, style) if text else painted(seed, " ", style)
        reading = ocr.read(data)
        times.append(reading.ms)
        got = {(c.kind, c.value) for c in contacts.extract(ocr.contact_text(reading.text), "photo_text", region,
                                                            language)}
        # a messenger id that is a phone also yields the phone: one contact, counted once
        got = {g for g in got if not (g[0] == "phone" and any(o[1] == g[1] and o[0] != "phone" for o in got))}
        extracted += len(got)
        if want:
            planted += 1
            if want in got or (want[0] == "phone" and any(v == want[1] for _, v in got)):
                found_right += 1
            else:
                missed.append(f"{text!r} ({style}) read as {reading.text!r}")
    wrong = extracted - found_right
    print(f"{len(cases)} photos ({planted} with a painted contact, {len(cases) - planted} without), 400x300 demo photos")
    print(f"recall {found_right}/{planted} = {found_right / planted:.2f}; precision "
          f"{found_right}/{extracted} = {found_right / max(extracted, 1):.2f} ({wrong} contacts read that were not planted)")
    print(f"OCR per photo, one core: median {statistics.median(times):.0f} ms, "
          f"p95 {sorted(times)[int(0.95 * (len(times) - 1))]:.0f} ms, max {max(times)} ms")
    for line in missed:
        print("  missed:", line)


if __name__ == "__main__":
    main()
