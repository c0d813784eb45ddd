"""Small helpers shared by tests."""
import os
import socket

from wildwatch import config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_for(env: dict) -> config.Settings:
    """Settings as a subprocess with this environment would read them."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        return config.load()
    finally:
        os.environ.clear()
        os.environ.update(saved)
