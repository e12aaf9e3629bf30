"""Turn the small Markdown subset used on question cards into HTML that cannot inject markup.

Card text is written by course authors, but it often *quotes* code: ``<script>``, ``a|b``,
``map[string]int``. So every character is HTML-escaped first, and tags only ever come from the
patterns below. Supported: paragraphs (a blank line), line breaks, ``**bold**``, ```code```,
fenced code blocks, ``-``/``*`` bullet lists, ``1.`` numbered lists and ``[text](https://…)``
links.

Library equivalents: Python-Markdown (``markdown``) or ``mistune`` with ``escape=True`` render
full Markdown; the cards need only this subset, so it is hand-written here rather than adding a
dependency whose escaping rules would also have to be audited.
"""

from __future__ import annotations

import html
import inspect
import re

_FENCE = re.compile(r"\s*```")
_BULLET = re.compile(r"\s*[-*]\s+(.*)")
_NUMBERED = re.compile(r"\s*\d+[.)]\s+(.*)")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
# Runs on already-escaped text, so a quote can never close the href attribute early.
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s)]+)\)")


def markdown_to_html(text: str) -> str:
    """Render ``text`` (the subset above) as HTML, with all other characters escaped.

    Indentation common to every line is removed first, so triple-quoted strings in a notebook
    can be indented like the code around them.
    """
    blocks: list[str] = []
    paragraph: list[str] = []
    list_items: list[str] = []
    list_tag = ""
    code_lines: list[str] | None = None

    def close_paragraph() -> None:
        if paragraph:
            blocks.append("<p>" + "<br>".join(paragraph) + "</p>")
            paragraph.clear()

    def close_list() -> None:
        nonlocal list_tag
        if list_items:
            items = "".join(f"<li>{item}</li>" for item in list_items)
            blocks.append(f"<{list_tag}>{items}</{list_tag}>")
            list_items.clear()
        list_tag = ""

    def start_list(tag: str) -> None:
        nonlocal list_tag
        if list_tag != tag:
            close_list()
            list_tag = tag

    for line in inspect.cleandoc(text).splitlines():
        if code_lines is not None:
            if _FENCE.match(line):
                blocks.append(_code_block(code_lines))
                code_lines = None
            else:
                code_lines.append(line)
            continue
        if _FENCE.match(line):
            close_paragraph()
            close_list()
            code_lines = []
            continue
        if not line.strip():
            close_paragraph()
            close_list()
            continue
        bullet = _BULLET.fullmatch(line)
        numbered = None if bullet else _NUMBERED.fullmatch(line)
        if bullet or numbered:
            close_paragraph()
            start_list("ul" if bullet else "ol")
            list_items.append(inline_html((bullet or numbered).group(1)))
        elif list_items and line[:1].isspace():
            # An indented line after a list item continues that item.
            list_items[-1] += " " + inline_html(line.strip())
        else:
            close_list()
            paragraph.append(inline_html(line.strip()))

    if code_lines is not None:  # an unclosed fence still shows its code
        blocks.append(_code_block(code_lines))
    close_paragraph()
    close_list()
    return "\n".join(blocks)


def inline_html(text: str) -> str:
    """Render one line: ```code``` spans verbatim, then ``**bold**`` and links elsewhere."""
    parts: list[str] = []
    position = 0
    for span in _CODE_SPAN.finditer(text):
        parts.append(_emphasis(text[position : span.start()]))
        parts.append(f"<code>{html.escape(span.group(1))}</code>")
        position = span.end()
    parts.append(_emphasis(text[position:]))
    return "".join(parts)


def _emphasis(text: str) -> str:
    escaped = html.escape(text)
    escaped = _LINK.sub(r'<a href="\2" target="_blank" rel="noopener noreferrer">\1</a>', escaped)
    return _BOLD.sub(r"<strong>\1</strong>", escaped)


def _code_block(lines: list[str]) -> str:
    return "<pre><code>" + html.escape("\n".join(lines)) + "</code></pre>"
