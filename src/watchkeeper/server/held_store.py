"""A DuckDB store's one connection, shared by the requests of a burst and let go when idle.

Opening a DuckDB file costs tens of milliseconds, more than most dashboard answers take
to compute; a page and the charts it loads come as a burst of requests. So requests
(one at a time: DuckDB fails when threads of one process open and close a file at once)
share one connection, which is closed once no request came for ``IDLE_SECONDS`` or has
been open for ``MAX_HELD_SECONDS``. Between bursts the file is free, so ``wk check`` or
``wk profile`` in another process can write (they wait for it up to ``WK_LOCK_TIMEOUT``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from starlette.concurrency import run_in_threadpool

from ..store import Store

IDLE_SECONDS = 1.0
MAX_HELD_SECONDS = 5.0


class HeldStore:
    def __init__(self, store: Store, idle: float = IDLE_SECONDS,
                 max_held: float = MAX_HELD_SECONDS) -> None:
        self.store = store
        self.idle = idle
        self.max_held = max_held
        self.lock = asyncio.Lock()
        self._stack: contextlib.ExitStack | None = None
        self._opened = 0.0
        self._requests = 0  # a request since the idle timer started means: not idle

    async def run(self, answer):
        """``await answer()`` with the store's connection open, no other request at once."""
        async with self.lock:
            self._requests += 1
            if self._stack is None:
                stack = contextlib.ExitStack()
                await run_in_threadpool(stack.enter_context, self.store.session())
                self._stack, self._opened = stack, time.monotonic()
            try:
                # The handler has done every store call by the time its response starts.
                return await answer()
            finally:
                if time.monotonic() - self._opened >= self.max_held:
                    await run_in_threadpool(self.close)
                else:
                    self._close_when_idle(self._requests)

    def _close_when_idle(self, seen: int) -> None:
        async def check() -> None:
            async with self.lock:
                if self._requests == seen:
                    await run_in_threadpool(self.close)

        loop = asyncio.get_running_loop()
        loop.call_later(self.idle, lambda: loop.create_task(check()))

    def close(self) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()
