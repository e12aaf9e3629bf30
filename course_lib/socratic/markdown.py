"""Card text in Markdown, rendered by markdown-it-py (CommonMark) with raw HTML switched off.

Question, hint and answer texts come from the question bank, which teachers edit: a ``<script>``
typed there must be shown, never run. markdown-it-py escapes every character of raw HTML when its
``html`` option is off, refuses ``javascript:`` / ``data:`` links, and renders the rest of
CommonMark (``*italic*``, ``**bold**``, ```code```, lists, fenced code) plus tables and
``~~strikethrough~~``. Links open in a new tab, so a card never navigates JupyterLab away.

Line breaks follow CommonMark: a single newline is a space, a blank line starts a new paragraph.
``\\$`` is a literal dollar sign (markdown-it drops the backslash): money in bank templates is
written that way. (Notebook markdown cells need ``\\\\$``: JupyterLab's renderer drops one
backslash before MathJax reads the page.) Cards are never typeset as maths: their frame carries
MathJax's ignore classes.
"""

from __future__ import annotations

import inspect
from typing import Any

from markdown_it import MarkdownIt

_RENDERER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def _open_links_in_a_new_tab(self: Any, tokens: Any, index: int, options: Any, env: Any) -> str:
    tokens[index].attrSet("target", "_blank")
    tokens[index].attrSet("rel", "noopener noreferrer")
    return self.renderToken(tokens, index, options, env)


_RENDERER.add_render_rule("link_open", _open_links_in_a_new_tab)


def markdown_to_html(text: str) -> str:
    """Render ``text`` as HTML, raw HTML escaped.

    Indentation common to every line is removed first (``inspect.cleandoc``), so multi-line
    strings can be indented like the code or TOML around them.
    """
    return _RENDERER.render(inspect.cleandoc(text)).strip()
