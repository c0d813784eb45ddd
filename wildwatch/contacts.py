"""Contact identifiers in listing text: phone numbers, messenger IDs (WeChat, QQ, Zalo, WhatsApp, Telegram,
Line), e-mail addresses and links to outside shops, each normalised so that the same contact written
differently gives the same value.

Sellers disguise contacts to slip past platform filters: spaced or dotted digits, full-width digits, "O"/"l"
for 0/1, digits spelled out. `reveal()` undoes these on a copy of the text that keeps, for every character,
where it came from, so each contact keeps its span in the text the analyst sees.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers

# Display names, also used in link reasons ("same WhatsApp +255...").
KINDS = {"phone": "phone", "wechat": "WeChat", "qq": "QQ", "zalo": "Zalo", "whatsapp": "WhatsApp",
         "telegram": "Telegram", "line": "Line", "email": "e-mail", "url": "outside shop"}
# Messenger accounts that are phone numbers: linked to the same number written as a phone.
PHONE_BASED = {"whatsapp", "zalo", "wechat", "line", "telegram"}

SPELLED_DIGITS = {
    "en": ["zero|oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "fr": ["zéro|zero", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"],
    "sw": ["sifuri", "moja", "mbili", "tatu", "nne", "tano", "sita", "saba", "nane", "tisa"],
    "vi": ["không|khong", "một|mot", "hai", "ba", "bốn|bon", "năm|nam", "sáu|sau", "bảy|bay", "tám|tam",
           "chín|chin"],
}
HAN_DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
# A spelled-out run must be long enough to be a phone number, not "one or two" in a sentence.
MIN_SPELLED = 7
LOOKALIKES = {"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "|": "1"}
SEPARATORS = " .-·_*/,"


@dataclass(frozen=True)
class Contact:
    kind: str
    value: str  # normalised: E.164 for phones, lower case for IDs, host/path for links
    field: str
    start: int  # span in the field's original text
    end: int

    @property
    def key(self) -> str:
        """What links listings: a messenger account that is a phone number links with that phone."""
        if self.kind in PHONE_BASED and self.value.startswith("+"):
            return f"phone:{self.value}"
        return f"{self.kind}:{self.value}"

    @property
    def label(self) -> str:
        return f"{KINDS[self.kind]} {self.value}"


class Revealed:
    """Text with disguised digits made plain, and for each of its characters the span it came from. Built in
    stretches: text left as it was is copied whole (most of a listing), only rewritten bits one by one."""

    def __init__(self):
        self.pieces: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self._text: str | None = None

    def emit(self, text: str, start: int, end: int) -> None:
        """text standing for the original span [start, end) (every character of it points there)."""
        self.pieces.append(text)
        self.starts.extend([start] * len(text))
        self.ends.extend([end] * len(text))

    def keep(self, text: str, start: int) -> None:
        """The original's own characters from offset start, unchanged."""
        self.pieces.append(text)
        self.starts.extend(range(start, start + len(text)))
        self.ends.extend(range(start + 1, start + len(text) + 1))

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = "".join(self.pieces)
        return self._text

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.starts[start], self.ends[end - 1]

    def _copy(self, out: Revealed, a: int, b: int) -> None:
        out.pieces.append(self.text[a:b])
        out.starts.extend(self.starts[a:b])
        out.ends.extend(self.ends[a:b])

    def then(self, pattern: re.Pattern, replace) -> Revealed:
        """A further rewrite of this text, each output character still pointing at the original."""
        out, text, at = Revealed(), self.text, 0
        for m in pattern.finditer(text):
            self._copy(out, at, m.start())
            out.emit(replace(m), self.starts[m.start()], self.ends[m.end() - 1])
            at = m.end()
        if at == 0:
            return self  # nothing to rewrite
        self._copy(out, at, len(text))
        return out


def _spelled_pattern(language: str | None) -> re.Pattern:
    langs = ["en"] + ([language] if language in SPELLED_DIGITS and language != "en" else [])
    words = {}
    for lang in langs:
        for digit, alternatives in enumerate(SPELLED_DIGITS[lang]):
            for word in alternatives.split("|"):
                words[word] = digit
    alt = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    word = rf"(?:{alt})"
    return re.compile(rf"(?<!\w){word}(?:[\s,.\-]+{word}){{{MIN_SPELLED - 1},}}(?!\w)", re.IGNORECASE), words


_SPELLED_CACHE: dict = {}


def _spelled(language: str | None):
    if language not in _SPELLED_CACHE:
        _SPELLED_CACHE[language] = _spelled_pattern(language)
    return _SPELLED_CACHE[language]


HAN_RUN = re.compile(rf"[{''.join(HAN_DIGITS)}]{{{MIN_SPELLED},}}")
# One or two digits at a time with separators between: "0 7 1 2 3 4 5 6 7 8", "07.12.34.56.78".
FULLWIDTH = re.compile(r"[\uFF01-\uFF5E]+")
SPACED_DIGITS = re.compile(r"(?<![\d+])\+?\d{1,2}(?:[ .\-·_*/]{1,3}\d{1,2}){5,}(?!\d)")


def _is_digitish(text: str, i: int, step: int) -> bool:
    j = i + step
    while 0 <= j < len(text) and text[j] in SEPARATORS and abs(j - i) <= 2:
        j += step
    return 0 <= j < len(text) and unicodedata.decimal(text[j], None) is not None


def _in_number(text: str, i: int) -> bool:
    """A look-alike letter standing for a digit: next to digits, and its run of letters is all look-alikes
    ("O7l2" yes; "Old", "call", "Zalo" no)."""
    a = b = i
    while a > 0 and text[a - 1].isalpha():
        a -= 1
    while b + 1 < len(text) and text[b + 1].isalpha():
        b += 1
    if any(ch not in LOOKALIKES for ch in text[a:b + 1]):
        return False
    return _is_digitish(text, a, -1) or _is_digitish(text, b, 1)


# Characters reveal() may rewrite: digits other than ASCII ones (full-width, Arabic-Indic...) and letters that
# stand for digits. Everything between them is copied as it is.
_REWRITABLE = re.compile(r"(?:(?![0-9])\d)|[" + re.escape("".join(LOOKALIKES)) + "]")
_ANY_DIGIT = re.compile(r"\d")


def reveal(text: str, language: str | None = None) -> Revealed:
    out = Revealed()
    pattern, words = _spelled(language)
    spelled = [(m.start(), m.end(), "".join(str(words[w.lower()]) for w in re.findall(r"\w+", m.group())))
               for m in pattern.finditer(text)]
    spelled += [(m.start(), m.end(), "".join(str(HAN_DIGITS[c]) for c in m.group())) for m in HAN_RUN.finditer(text)]
    spelled.sort()
    # Without any digit in the text there is nothing to rewrite (a look-alike is a digit only next to digits).
    has_digits = _ANY_DIGIT.search(text) is not None
    i = 0
    for a, b, digits in [*spelled, (len(text), len(text), "")]:
        if a < i:
            continue  # overlapping runs: the first wins
        for m in _REWRITABLE.finditer(text, i, a) if has_digits else ():
            k = m.start()
            out.keep(text[i:k], i)
            ch = text[k]
            digit = unicodedata.decimal(ch, None)
            if digit is not None:
                out.emit(str(digit), k, k + 1)
            elif _in_number(text, k):
                out.emit(LOOKALIKES[ch], k, k + 1)
            else:
                out.keep(ch, k)
            i = k + 1
        out.keep(text[i:a], i)
        if digits:
            out.emit(digits, a, b)
        i = b
    out = out.then(SPACED_DIGITS, lambda m: re.sub(r"[^\d+]", "", m.group()))
    # Full-width letters and signs ("ｉｖｏｒｙ＿ｖｎ８８", typed with a CJK input method) read as the ASCII they are.
    return out.then(FULLWIDTH, lambda m: unicodedata.normalize("NFKC", m.group()))


# Cheap tests that let a field skip the costly searches: no phone number has fewer than five digits, and no
# e-mail address lacks its at-sign in one of the forms EMAIL (below) reads.
FIVE_DIGITS = re.compile(r"(?:\d\D*){5}")
AT_SIGN = re.compile(r"@|＠|\(at\)|\[at\]| at ", re.IGNORECASE)


def phones(revealed: Revealed, region: str | None) -> list[tuple[str, int, int]]:
    """(E.164, start, end) for every valid phone number, spans in the revealed text."""
    found = []
    if not FIVE_DIGITS.search(revealed.text):
        return found
    for match in phonenumbers.PhoneNumberMatcher(revealed.text, region or "ZZ", leniency=phonenumbers.Leniency.VALID):
        number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        found.append((number, match.start, match.end))
    return found


ID = r"([A-Za-z][-_A-Za-z0-9]{4,30})"
CUE_SEP = r"[\s:：=\-号號]*"
MESSENGER_CUES = {
    "wechat": ["微信", "威信", "薇信", "徽信", "v信", "vx", "wx", "weixin", "wechat", "we chat", "加v", "+v", "➕v"],
    "qq": ["qq", "企鹅", "扣扣"],
    "zalo": ["zalo", "za lo"],
    "whatsapp": ["whatsapp", "whats app", "watsapp", "whatsap", "wasap", "wa.me/", "(?-i:WA)"],
    "telegram": ["telegram", "t.me/"],
    "line": ["line id", "(?-i:LINE)", "line:"],
}


def _cue(word: str) -> str:
    # Latin cues stand alone ("online" is not "line"); CJK cues may run straight into the ID.
    body = word if word.startswith("(?") else re.escape(word)
    left = r"(?<![A-Za-z])" if word[0].isascii() else ""
    right = r"(?![A-Za-z])" if word[-1].isascii() and word[-1].isalpha() else ""
    return left + body + right


CUE = re.compile("|".join(f"(?P<{kind}>{'|'.join(map(_cue, cues))})" for kind, cues in MESSENGER_CUES.items()),
                 re.IGNORECASE)
EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]+)\s*(?:@|\(at\)|\[at\]|＠| at )\s*"
                   r"([\w-]+(?:\s*(?:\.|\(dot\)|\[dot\]| dot )\s*[\w-]+)+)", re.IGNORECASE)
URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'，。、）)]+", re.IGNORECASE)
HANDLE = re.compile(r"(?<![\w@.])@([A-Za-z][A-Za-z0-9_]{4,31})\b")
QQ_NUMBER = re.compile(r"[1-9]\d{4,11}")


def _messenger_id(kind: str, cue: str, text: str, at: int) -> tuple[str, int, int] | None:
    rest = text[at:at + 60]
    sep = re.match(CUE_SEP + "@?", rest)
    start = at + sep.end()
    if kind == "qq":
        m = QQ_NUMBER.match(text, start)
        return (m.group(), m.start(), m.end()) if m else None
    m = re.compile(ID).match(text, start)
    # "WhatsApp only", "WeChat please": a word of letters is an ID only after a colon or 号, or a CJK cue
    said = bool(m) and (any(ch in sep.group() for ch in ":：=号號") or not m.group(1).isalpha() or not cue.isascii())
    if m and said and not m.group(1).lower().startswith(("http", "www")):
        return m.group(1).lower(), m.start(1), m.end(1)
    return None


def _url_value(url: str) -> str:
    url = url.rstrip(".,;:!?")
    url = re.sub(r"^(?:https?://)?(?:www\.)?", "", url, flags=re.IGNORECASE)
    host, _, path = url.partition("/")
    path = path.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    return host.lower() + ("/" + path if path else "")


def extract(text: str | None, field: str = "text", region: str | None = None, language: str | None = None,
            own_domain: str | None = None) -> list[Contact]:
    """Every contact in one field of a listing; `region` (the site's country) reads national numbers,
    `own_domain` keeps the marketplace's own links out."""
    if not text:
        return []
    found: dict[tuple[str, str, int], Contact] = {}

    def add(kind, value, start, end):
        # One contact once: "telegram @x" is found by its cue and as a handle, over the same characters.
        if not any(k == kind and v == value and start < c.end and c.start < end for (k, v, _), c in found.items()):
            found[(kind, value, start)] = Contact(kind, value, field, start, end)

    revealed = reveal(text, language)
    phone_spans = []
    for number, start, end in phones(revealed, region):
        a, b = revealed.span(start, end)
        phone_spans.append((a, b, number))
        add("phone", number, a, b)
    plain = revealed.text
    for m in CUE.finditer(plain):
        kind = m.lastgroup
        cue_end = revealed.span(m.end() - 1, m.end())[1]
        # A cue followed by a phone number: the account is that number.
        near = [(a, b, n) for a, b, n in phone_spans if 0 <= a - cue_end <= 12]
        if near and kind != "qq":
            a, b, number = near[0]
            add(kind, number, a, b)
            continue
        # ... or a phone number the cue follows: "0912 345 678 (Zalo)".
        cue_start = revealed.span(m.start(), m.start() + 1)[0]
        before = [(a, b, n) for a, b, n in phone_spans
                  if 0 <= cue_start - b <= 4 and re.fullmatch(r"[\s(（\[\-–/:：]*", text[b:cue_start])]
        if before and kind in PHONE_BASED:
            a, b, number = before[-1]
            add(kind, number, a, b)
            continue
        got = _messenger_id(kind, m.group(), plain, m.end())
        if got:
            value, s, e = got
            add(kind, value, *revealed.span(s, e))
    for m in EMAIL.finditer(text) if AT_SIGN.search(text) else ():
        domain = re.sub(r"\s*(?:\(dot\)|\[dot\]| dot )\s*|\s+", ".", m.group(2), flags=re.IGNORECASE)
        domain = re.sub(r"\.+", ".", domain).lower()
        add("email", f"{m.group(1).lower()}@{domain}", m.start(), m.end())
    for m in URL.finditer(text):
        value = _url_value(m.group())
        host = value.split("/", 1)[0]
        if own_domain and (host == own_domain or host.endswith("." + own_domain)):
            continue
        add("url", value, m.start(), m.start() + len(m.group().rstrip(".,;:!?")))
    for m in HANDLE.finditer(text):
        if not any(c.kind in ("telegram", "email") and c.start <= m.start() < c.end for c in found.values()):
            add("telegram", m.group(1).lower(), m.start(), m.end())
    return sorted(found.values(), key=lambda c: (c.start, c.kind))


def from_listing(listing: dict, region: str | None, language: str | None, own_domain: str | None = None) -> list[Contact]:
    """Contacts in a listing's title, description and seller fields, and a forum author's replies."""
    out = []
    for field in ("title", "description", "seller", "replies"):
        out.extend(extract(listing.get(field), field, region, language, own_domain))
    return out


def as_row(contact: Contact) -> dict:
    """A contact as the crawl item and the spool carry it (plain JSON)."""
    return {"kind": contact.kind, "value": contact.value, "link_key": contact.key, "field": contact.field,
            "start": contact.start, "end": contact.end}
