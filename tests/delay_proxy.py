"""A TCP proxy on 127.0.0.1 that delays every chunk, each direction, by a seeded random time.

Real networks add a variable delay between a client and Redis; on loopback it is microseconds.
To test a limiter under a realistic 0-1 ms, the proxy forwards each chunk it reads after a delay
drawn from ``uniform(0, max_delay_s)``, never before an earlier chunk of the same direction (TCP
keeps order). Runs its own asyncio loop in a daemon thread; use it as a context manager.
"""

from __future__ import annotations

import asyncio
import random
import threading
from types import TracebackType

__all__ = ["DelayProxy"]

HOST = "127.0.0.1"


class DelayProxy:
    """``with DelayProxy(port, max_delay_s=0.001) as proxy:`` then connect to ``proxy.port``."""

    def __init__(self, target_port: int, *, max_delay_s: float, seed: int = 0) -> None:
        self.target_port = target_port
        self.max_delay_s = max_delay_s
        self._random = random.Random(seed)
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="delay-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, HOST, 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._started.set()
        self._loop.run_forever()

    async def _accept(self, client_reader: asyncio.StreamReader,
                      client_writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(HOST, self.target_port)
        await asyncio.gather(self._pump(client_reader, upstream_writer),
                             self._pump(upstream_reader, client_writer),
                             return_exceptions=True)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await chunks.get()
                if not data:
                    break
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
            writer.close()

        delivering = asyncio.create_task(deliver())
        last_due = 0.0
        try:
            while data := await reader.read(65536):
                last_due = max(last_due, loop.time() + self._random.uniform(0, self.max_delay_s))
                chunks.put_nowait((last_due, data))
        finally:
            chunks.put_nowait((last_due, b""))
            await delivering

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        self._started.wait(10)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        async def shut() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shut(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
