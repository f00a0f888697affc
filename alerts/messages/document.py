"""One message, many channels: a small document model and the length-safe rendering of it.

An alert becomes a `Message` (title, summary, fields, extra lines) made of inline nodes: `Text` (any
string, attacker-controlled or ours), `Strong`, `Link` and `Code` (only for text known to be safe:
base58 addresses). Each channel supplies a `Markup` that escapes text and writes the nodes in its
syntax (Telegram HTML, Discord markdown, plain text) and says what counts against its length limits.

`render_within` cuts a line of nodes to a limit *before* escaping, so a cut can never fall inside an
HTML entity (`&amp;`), a backslash escape or a tag: open tags are always closed and the cut ends in
an ellipsis. Pure: no Django, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alerts.messages.text import ELLIPSIS, tidy_cut


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Strong:
    children: tuple[Inline, ...]


@dataclass(frozen=True)
class Link:
    url: str  # AURA or Solscan URL built from checked parts (text.Links), never from free text
    children: tuple[Inline, ...]


@dataclass(frozen=True)
class Code:
    text: str  # base58 or digits only: Discord cannot escape inside a code span


Inline = Text | Strong | Link | Code
Line = tuple[Inline, ...]


def bold(text: str) -> Strong:
    return Strong((Text(text),))


def link(url: str, text: str) -> Link:
    return Link(url, (Text(text),))


@dataclass(frozen=True)
class Field:
    name: str  # ours, short, never attacker text
    value: Line
    inline: bool = True


@dataclass(frozen=True)
class Message:
    """What an alert says, before any channel's syntax."""

    title: Line
    summary: Line
    fields: tuple[Field, ...] = ()
    lines: tuple[Line, ...] = ()  # after the fields: reasons, digest rows, Solscan links
    url: str | None = None  # the page the title opens
    footer: str = "AURA"
    colour: int = 0x95A5A6
    timestamp: int | None = None  # unix seconds


class Markup:
    """How a channel writes inline nodes. Subclasses escape per character (so a cut between two
    characters is always clean) and say whether markup and escapes count against length limits."""

    counts_markup = False

    def escape_char(self, char: str) -> str:
        return char

    def strong(self, inner: str) -> str:
        return inner

    def link(self, url: str, inner: str) -> str:
        return inner

    def code(self, text: str) -> str:
        return text

    def escape(self, text: str) -> str:
        return "".join(self.escape_char(char) for char in text)

    def char_cost(self, char: str) -> int:
        return len(self.escape_char(char)) if self.counts_markup else 1

    def text_cost(self, text: str) -> int:
        return len(self.escape(text)) if self.counts_markup else len(text)

    def wrapper_cost(self, node: Strong | Link) -> int:
        if not self.counts_markup:
            return 0
        return len(self.strong("")) if isinstance(node, Strong) else len(self.link(node.url, ""))

    def code_cost(self, text: str) -> int:
        return len(self.code(text)) if self.counts_markup else len(text)


PLAIN = Markup()


class PlainWithUrls(Markup):
    """Plain text for email: a link shows its URL after its text."""

    def link(self, url: str, inner: str) -> str:
        return f"{inner} <{url}>"


PLAIN_WITH_URLS = PlainWithUrls()


def render(nodes: Sequence[Inline], markup: Markup) -> str:
    parts = []
    for node in nodes:
        if isinstance(node, Text):
            parts.append(markup.escape(node.text))
        elif isinstance(node, Code):
            parts.append(markup.code(node.text))
        elif isinstance(node, Strong):
            parts.append(markup.strong(render(node.children, markup)))
        else:
            parts.append(markup.link(node.url, render(node.children, markup)))
    return "".join(parts)


def measure(nodes: Sequence[Inline], markup: Markup) -> int:
    """Length of `nodes` as the channel counts it."""
    total = 0
    for node in nodes:
        if isinstance(node, Text):
            total += markup.text_cost(node.text)
        elif isinstance(node, Code):
            total += markup.code_cost(node.text)
        else:
            total += markup.wrapper_cost(node) + measure(node.children, markup)
    return total


def render_within(nodes: Sequence[Inline], markup: Markup, limit: int) -> str:
    """`nodes` rendered, cut to at most `limit` (as the channel counts) with an ellipsis when needed."""
    if measure(nodes, markup) <= limit:
        return render(nodes, markup)
    ellipsis_cost = markup.text_cost(ELLIPSIS)
    if limit < ellipsis_cost:
        return ""
    rendered, _, _ = _render_budget(nodes, markup, limit - ellipsis_cost)
    # Only text can end in whitespace (markup ends in ">", "*" or ")"), so this strips no syntax.
    return rendered.rstrip() + markup.escape(ELLIPSIS)


def _render_budget(nodes: Sequence[Inline], markup: Markup, budget: int) -> tuple[str, int, bool]:
    """As much of `nodes` as fits in `budget`: (rendered, cost used, whether everything fitted)."""
    parts: list[str] = []
    used = 0
    for node in nodes:
        room = budget - used
        if isinstance(node, Text):
            cost = markup.text_cost(node.text)
            if cost <= room:
                parts.append(markup.escape(node.text))
                used += cost
                continue
            prefix = _prefix_within(node.text, markup, room)
            parts.append(markup.escape(prefix))
            return "".join(parts), used + markup.text_cost(prefix), False
        if isinstance(node, Code):  # an address is shown whole or not at all
            cost = markup.code_cost(node.text)
            if cost > room:
                return "".join(parts), used, False
            parts.append(markup.code(node.text))
            used += cost
            continue
        wrapper = markup.wrapper_cost(node)
        inner, inner_used, complete = _render_budget(node.children, markup, room - wrapper)
        if inner:
            parts.append(markup.strong(inner) if isinstance(node, Strong) else markup.link(node.url, inner))
            used += wrapper + inner_used
        if not complete:
            return "".join(parts), used, False
    return "".join(parts), used, True


def _prefix_within(text: str, markup: Markup, room: int) -> str:
    used = 0
    for end, char in enumerate(text):
        used += markup.char_cost(char)
        if used > room:
            return tidy_cut(text[:end])
    return text


def join_lines(lines: Sequence[Line]) -> Line:
    """Lines joined by newlines into one line of nodes (the shape `render_within` cuts)."""
    joined: list[Inline] = []
    for index, line in enumerate(lines):
        if index:
            joined.append(Text("\n"))
        joined.extend(line)
    return tuple(joined)
