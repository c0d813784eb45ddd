"""Files worth keeping between processes (a crawl process starts for every shard of every site), in the user's
cache folder: $XDG_CACHE_HOME/wildwatch, else ~/.cache/wildwatch. Each file is named after what it was made
from, is written whole or not at all, and holds plain data only (arrays, JSON): nothing read back can run code.
Without a usable folder (a service account without a home) everything is simply made afresh."""
from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def folder() -> Path | None:
    try:
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wildwatch"
    except RuntimeError:  # no home folder to be found
        return None


def write(path: Path, fill: Callable, stale: str | None = None) -> None:
    """Write `path` by fill(binary file): under a temporary name, then renamed, so that a reader (another crawl
    starting at the same moment) sees the whole file or none. `stale`: a glob of the files it replaces."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stale:
        for old in path.parent.glob(stale):
            if old != path:
                old.unlink(missing_ok=True)
    for left in path.parent.glob(".*.tmp"):  # a writer killed mid-way; one still writing is younger than this
        with contextlib.suppress(OSError):
            if time.time() - left.stat().st_mtime > 3600:
                left.unlink()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            fill(out)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
