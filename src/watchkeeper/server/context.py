"""What every request handler needs: the project, its store, and the server's settings."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from functools import cached_property

from ..config import Project
from ..store import Store

TOKEN_ENV = "WK_SERVER_TOKEN"
"""The environment variable holding the token that write actions need."""


@dataclass(frozen=True)
class Settings:
    """``token``: what write actions (and, off loopback, reads) must present.
    ``open_read``: reads need no token even when the server listens beyond loopback."""

    token: str | None = None
    host: str = "127.0.0.1"
    open_read: bool = False

    @classmethod
    def from_env(cls, host: str = "127.0.0.1", open_read: bool = False) -> "Settings":
        return cls(os.environ.get(TOKEN_ENV) or None, host, open_read)

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def read_needs_token(self) -> bool:
        return not (self.loopback or self.open_read)

    def __repr__(self) -> str:  # never print the token
        return f"Settings(token={'***' if self.token else None}, host={self.host!r}, " \
               f"open_read={self.open_read})"


@dataclass
class Workspace:
    """A project (or None: the store of ``WK_STORE_URL``) and the store it reads."""

    project: Project | None
    store_override: Store | None = None

    @cached_property
    def store(self) -> Store:
        if self.store_override is not None:
            return self.store_override
        return self.project.store() if self.project is not None else Store.open()

    def slo_spec(self):
        from ..slo import SLOSpec, load_spec

        return load_spec(self.project) if self.project is not None else SLOSpec()
