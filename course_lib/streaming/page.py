"""The live page's controls in a notebook: a link to it, and a button that stops its server.

Notebook 09 starts a streaming server for the learner to try in a browser. It must stay up
after *Run All* (a page whose server the last cell stopped is a dead link), so the notebook
shows :func:`page_controls` under the link instead: the learner stops it when done. Whatever
they do, the server also stops when the kernel shuts down
(:class:`course_lib.serving.BackgroundServer` stops at interpreter exit), so CI exits cleanly.
"""

from __future__ import annotations

import html
from typing import Protocol

import ipywidgets as widgets

__all__ = ["page_controls"]


class StoppableServer(Protocol):
    """What the controls need: the server's root URL and a way to stop it."""

    @property
    def url(self) -> str: ...

    def stop(self) -> None: ...


def page_controls(server: StoppableServer, *, label: str = "the live page") -> widgets.VBox:
    """A link to ``server.url`` + ``/`` and a **Stop** button that stops ``server``."""
    if not callable(getattr(server, "stop", None)) or not isinstance(
            getattr(server, "url", None), str):
        raise TypeError(f"page_controls needs a running server handle (with .url and .stop()), "
                        f"got {type(server).__name__}")
    address = server.url.rstrip("/") + "/"
    link = widgets.HTML(f'Open <a href="{html.escape(address)}" target="_blank">'
                        f"{html.escape(address)}</a> in a browser on this machine to try "
                        f"{html.escape(label)}. It stays up until you stop it here (or shut "
                        "down the kernel).")
    button = widgets.Button(description="Stop the server", icon="stop",
                            tooltip=f"stop the server behind {label}")
    status = widgets.HTML("")

    def stop(_: widgets.Button | None = None) -> None:
        server.stop()
        button.disabled = True
        status.value = f"Stopped: {html.escape(address)} no longer answers."

    button.on_click(stop)
    return widgets.VBox([link, widgets.HBox([button, status])])
