"""A background server nobody stopped still shuts down cleanly when its process exits.

Notebook 09 leaves its live page's server running after Run All (the learner stops it with a
button). These tests check that the server then stops at interpreter exit, in a plain Python
process and in a Jupyter kernel shut down as nbval shuts it down, with its ASGI lifespan
shutdown run (a server killed with its daemon thread would never run it); and that the page's
Stop button stops it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import httpx2
import pytest
from jupyter_client.manager import start_new_kernel

from course_lib.streaming import serve_app
from course_lib.streaming.page import page_controls

ROOT = Path(__file__).resolve().parent.parent

# An app whose lifespan shutdown leaves a mark in the file named by MARK.
SERVER_LEFT_RUNNING = textwrap.dedent("""
    from course_lib.serving import BackgroundServer

    async def app(scope, receive, send):
        assert scope["type"] == "lifespan"
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                with open(MARK, "w") as mark:
                    mark.write("shut down")
                await send({"type": "lifespan.shutdown.complete"})
                return

    left_running = BackgroundServer(app, lifespan="on")
    print(left_running.url, flush=True)
""")


def test_a_server_left_running_shuts_down_when_python_exits(tmp_path: Path) -> None:
    mark = tmp_path / "mark"
    code = f"MARK = {str(mark)!r}\n" + SERVER_LEFT_RUNNING
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("http://127.0.0.1:")
    assert mark.read_text() == "shut down"


def test_a_server_left_running_shuts_down_with_its_kernel(tmp_path: Path) -> None:
    mark = tmp_path / "mark"
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(ROOT))
    try:
        reply = client.execute_interactive(f"MARK = {str(mark)!r}\n" + SERVER_LEFT_RUNNING,
                                           timeout=60)
        assert reply["content"]["status"] == "ok"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=False)  # a polite shutdown_request, as nbval sends
    assert mark.read_text() == "shut down"


class FakeServer:
    url = "http://127.0.0.1:9"

    def __init__(self) -> None:
        self.stops = 0

    def stop(self) -> None:
        self.stops += 1


def test_the_stop_button_stops_the_server_once() -> None:
    server = FakeServer()
    controls = page_controls(server)
    link, (button, status) = controls.children[0], controls.children[1].children
    assert 'href="http://127.0.0.1:9/"' in link.value
    button.click()
    assert server.stops == 1 and button.disabled and "Stopped" in status.value


def test_the_stop_button_closes_a_real_server() -> None:
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"up"})

    server = serve_app(app)
    assert httpx2.get(server.url + "/").text == "up"
    controls = page_controls(server)
    controls.children[1].children[0].click()
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(server.url + "/", timeout=2)


def test_controls_refuse_something_that_is_not_a_server() -> None:
    with pytest.raises(TypeError, match=r"\.url and \.stop\(\)"):
        page_controls("http://127.0.0.1:8000")
