"""Email: a subject, a plain-text body and an HTML alternative, for Django's email framework to send.

The subject is one line (a newline in it would be header injection; the text is already one line per
field and is clipped). The HTML is built from escaped text only. Pure: no Django, no I/O.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from alerts.messages.compose import message_for
from alerts.messages.document import PLAIN, PLAIN_WITH_URLS, Markup, Message, render
from alerts.messages.events import Alert
from alerts.messages.text import Links, clip

SUBJECT_LENGTH = 150


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


class EmailHTML(Markup):
    def escape_char(self, char: str) -> str:
        return html.escape(char, quote=True)

    def strong(self, inner: str) -> str:
        return f"<strong>{inner}</strong>"

    def link(self, url: str, inner: str) -> str:
        return f'<a href="{html.escape(url, quote=True)}">{inner}</a>'

    def code(self, text: str) -> str:
        return f"<code>{self.escape(text)}</code>"


EMAIL_HTML = EmailHTML()


def email_subject(message: Message) -> str:
    return clip(f"AURA: {render(message.title, PLAIN)} · {render(message.summary, PLAIN)}", SUBJECT_LENGTH)


def email_text(message: Message) -> str:
    lines = [render(message.title, PLAIN), "", render(message.summary, PLAIN_WITH_URLS), ""]
    lines += [f"{field.name}: {render(field.value, PLAIN_WITH_URLS)}" for field in message.fields]
    if message.lines:
        lines.append("")
        lines += [render(line, PLAIN_WITH_URLS) for line in message.lines]
    if message.url:
        lines += ["", f"Open in AURA: {message.url}"]
    lines += ["", "-- ", message.footer]
    return "\n".join(lines) + "\n"


def email_html(message: Message) -> str:
    rows = "".join(
        f'<tr><th align="left" style="padding-right:12px">{html.escape(field.name)}</th>'
        f"<td>{render(field.value, EMAIL_HTML)}</td></tr>"
        for field in message.fields
    )
    extra = "".join(f"<p>{render(line, EMAIL_HTML)}</p>" for line in message.lines)
    title = render(message.title, EMAIL_HTML)
    if message.url:
        title = EMAIL_HTML.link(message.url, title)
    return (
        f"<p><strong>{title}</strong></p>"
        f"<p>{render(message.summary, EMAIL_HTML)}</p>"
        f"<table>{rows}</table>{extra}"
        f'<p style="color:#888">{html.escape(message.footer)}</p>'
    )


def email_content(alert: Alert, *, site_url: str) -> EmailContent:
    """Subject, text and HTML for `alert`; the sender wraps them in an EmailMultiAlternatives."""
    message = message_for(alert, Links(site_url))
    return EmailContent(email_subject(message), email_text(message), email_html(message))
