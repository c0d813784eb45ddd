import email.utils
import time

from spiders.middlewares import retry_after_seconds


def test_retry_after_in_seconds_or_as_an_http_date():
    assert retry_after_seconds(b"120") == 120
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_after_seconds(soon) <= 31
    past = email.utils.formatdate(time.time() - 30, usegmt=True)
    assert retry_after_seconds(past) == 0
    assert retry_after_seconds(None) is None and retry_after_seconds(b"soon") is None
