"""JSON a site answers with: the body of an API answer, or data a page carries in a script (an assignment
such as `window.data = {...}` or `g_page_config = {...}`, a `<script id=...>` element, Nuxt 3's flattened
`__NUXT_DATA__`). Site files read it with JMESPath expressions and address templates (sites/README.md).

Nothing here evaluates JavaScript: a script that is code, not data (Nuxt 2's `window.__NUXT__=(function(a,b)
{...})(...)`), is reported as unreadable, and the site file should read the page's HTML or its JSON API instead.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache

import jmespath
from jmespath.exceptions import JMESPathError

# Anti-JSON-hijacking prefixes some APIs put before the JSON.
XSSI_PREFIXES = (")]}',", ")]}'", "while(1);", "for(;;);")
# Tags devalue (Nuxt 3's serializer) wraps values in; what matters is the wrapped value.
NUXT_WRAPPERS = {"ShallowReactive", "Reactive", "Ref", "ShallowRef", "EmptyRef", "EmptyShallowRef"}
TEMPLATE_PART = re.compile(r"\{([^{}]+)\}")


class JsonUnreadable(ValueError):
    """The answer or the page holds no JSON the site file can read; the message says why, for the run record."""


class PathError(ValueError):
    """A site file's path or template does not compile (site files are refused on load)."""


@lru_cache(maxsize=4096)
def compile_path(expr: str):
    try:
        return jmespath.compile(expr)
    except JMESPathError as exc:
        raise PathError(f"not a JMESPath expression: {expr!r} ({exc.__class__.__name__}: {exc})") from exc


def search(expr: str, data):
    try:
        return compile_path(expr).search(data)
    except JMESPathError:  # a function given the wrong type by an answer we have not seen: nothing found
        return None


def is_template(spec: str) -> bool:
    """`{base_url}/{list_id}.htm` is a template; `{a: x, b: y}` alone is a JMESPath multiselect hash."""
    whole = spec.strip()
    if whole.startswith("{") and whole.endswith("}") and ":" in whole:
        return False
    return bool(TEMPLATE_PART.search(spec))


def check_spec(spec: str) -> None:
    """Raises PathError when a path, or a template's parts, do not compile (site files are checked on load)."""
    if is_template(spec):
        for part in TEMPLATE_PART.findall(spec):
            if part != "base_url":
                compile_path(part)
    else:
        compile_path(spec)


def render(spec: str, data, base_url: str = "") -> str | None:
    """A template `https://www.chotot.com/{list_id}.htm` (each {…} a path), or a single path. None when a part
    finds nothing: an address with a hole in it is not the listing's address."""
    if not is_template(spec):
        return scalar(search(spec, data))
    missing = False

    def part(m):
        nonlocal missing
        if m.group(1) == "base_url":
            return base_url.rstrip("/")
        value = scalar(search(m.group(1), data))
        if value is None:
            missing = True
            return ""
        return value

    out = TEMPLATE_PART.sub(part, spec)
    return None if missing else out


def scalar(value) -> str | None:
    """A path's result as text: numbers as written, strings trimmed, lists joined by spaces."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):  # parts: join them in the path (join('', price[].text)) to choose the glue
        return " ".join(p for p in (scalar(v) for v in value) if p) or None
    return None


def strings(value) -> list[str]:
    """A path's result as a list of text values (photos)."""
    values = value if isinstance(value, list) else [value]
    return [s for s in (scalar(v) for v in values if not isinstance(v, (list, dict))) if s]


# -- finding the JSON -----------------------------------------------------------------------------------
def looks_like_json(body: bytes | str, content_type: str = "") -> bool:
    if "json" in content_type.lower():
        return True
    head = body[:64].lstrip() if isinstance(body, str) else body[:64].lstrip().decode("utf-8", "replace")
    for prefix in XSSI_PREFIXES:
        head = head.removeprefix(prefix).lstrip()
    return head[:1] in ("{", "[")


def parse_body(text: str | bytes):
    """An API answer's JSON."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    stripped = text.lstrip("\ufeff \t\r\n")
    for prefix in XSSI_PREFIXES:
        if stripped.startswith(prefix):
            stripped = stripped[len(prefix):]
            break
    try:
        return json.loads(stripped)
    except RecursionError:  # a hostile answer nested deeper than any real one
        raise JsonUnreadable("answer is nested too deeply to read") from None
    except ValueError as exc:
        start = " ".join(stripped[:40].split())
        raise JsonUnreadable(f"answer is not JSON ({exc.msg} at character {exc.pos}; it starts {start!r})") from None


def from_script(text: str, name: str):
    """The JSON a page carries under `name`: a <script id="name"> element, or an assignment `name = {...}`."""
    element = re.search(rf"<script\b[^>]*\bid=[\"']{re.escape(name)}[\"'][^>]*>(.*?)</script>", text, re.S | re.I)
    if element:
        try:
            data = json.loads(element.group(1))
        except RecursionError:
            raise JsonUnreadable(f"script {name!r} is nested too deeply to read") from None
        except ValueError as exc:
            raise JsonUnreadable(f"script {name!r} is not JSON ({exc})") from None
        return unflatten(data) if _is_devalue(element.group(0), data) else data
    assignment = _assignment(text, name)
    if not assignment:
        raise JsonUnreadable(f"no script {name!r} on the page")
    rest = text[assignment.end():]
    if rest[:1] not in ("{", "["):
        raise JsonUnreadable(f"{name!r} is assigned code, not JSON data (it starts {rest[:30]!r})")
    try:
        data, _ = json.JSONDecoder().raw_decode(rest)
    except RecursionError:
        raise JsonUnreadable(f"{name!r} is nested too deeply to read") from None
    except ValueError as exc:
        raise JsonUnreadable(f"{name!r} holds no JSON ({exc.msg} at character {exc.pos})") from None
    return data


_NAME_CHAR = re.compile(r"[\w$.]")


def _assignment(text: str, name: str) -> re.Match | None:
    """`name = ` where name is not the tail of a longer name (`xwindow.data`, `a.data`). Searched for by the
    name itself, then the character before it checked: a pattern that starts with a look-behind is tried at
    every position of the page (40 ms on a 2 MB page; this, under 1 ms)."""
    for m in re.finditer(rf"{re.escape(name)}\s*=\s*", text):
        if not m.start() or not _NAME_CHAR.match(text, m.start() - 1):
            return m
    return None


def _is_devalue(tag: str, data) -> bool:
    return ("data-nuxt-data" in tag or "__NUXT_DATA__" in tag) and isinstance(data, list) and bool(data)


def unflatten(values: list):
    """Nuxt 3 (devalue) payloads are one flat array: index 0 is the root, and containers hold the indexes of
    their members. Rebuilt iteratively, so a hostile payload cannot exhaust the stack; shared members are
    shared, and a cycle stays a cycle of Python objects (JMESPath never walks it unless a path does)."""
    specials = {-1: None, -2: None, -3: float("nan"), -4: float("inf"), -5: float("-inf"), -6: -0.0}
    built: dict[int, object] = {}
    pending: list[tuple[object, object, int]] = []  # (container, key, index to put there)

    def ref(index):
        if not isinstance(index, int) or isinstance(index, bool):
            return index, False
        if index < 0:
            return specials.get(index), False
        if index >= len(values):
            return None, False
        if index in built:
            return built[index], False
        value = values[index]
        if isinstance(value, list) and value and isinstance(value[0], str):
            tag = value[0]
            if tag in NUXT_WRAPPERS:
                return ("wrap", value[1] if len(value) > 1 else -1), True
            if tag in ("Date", "BigInt", "RegExp", "URL", "URLSearchParams"):
                built[index] = value[1] if len(value) > 1 else None
                return built[index], False
            if tag in ("Map", "null"):
                out = {}
                built[index] = out
                for k in range(1, len(value) - 1, 2):
                    key, _ = ref(value[k]) if tag == "Map" else (value[k], False)
                    pending.append((out, str(key), value[k + 1]))
                return out, False
            if tag == "Set":
                out = []
                built[index] = out
                for member in value[1:]:
                    out.append(None)
                    pending.append((out, len(out) - 1, member))
                return out, False
        if isinstance(value, list):
            out = [None] * len(value)
            built[index] = out
            for i, member in enumerate(value):
                pending.append((out, i, member))
            return out, False
        if isinstance(value, dict):
            out = {}
            built[index] = out
            for key, member in value.items():
                out[key] = None
                pending.append((out, key, member))
            return out, False
        built[index] = value
        return value, False

    def resolve(index):
        seen = set()
        while True:
            value, wrapped = ref(index)
            if not wrapped:
                return value
            if index in seen:
                return None
            seen.add(index)
            index = value[1]

    root = resolve(0)
    steps = 0
    while pending:
        container, key, index = pending.pop()
        container[key] = resolve(index)
        steps += 1
        if steps > 5_000_000:
            raise JsonUnreadable("__NUXT_DATA__ is too large to read")
    return root


def load(text: str, content_type: str = "", script: str | None = None):
    """The JSON of a response: its body when it is JSON, else the page's script `script`."""
    if looks_like_json(text, content_type):
        return parse_body(text)
    if not script:
        start = " ".join(text[:40].split())
        raise JsonUnreadable(f"answer is not JSON (it starts {start!r})")
    return from_script(text, script)
