"""Evidence text made fit for a terminal or a report. Anyone can write a User-Agent, a certificate subject or a phone-log
line: none of it may drive the administrator's terminal (ANSI escapes, C1 controls), reorder what they read (bidi
overrides), or flood a report (one line of 10 MB)."""

from __future__ import annotations

import re

LINE_LIMIT = 2000
"""Characters per rendered line, the note of what was cut included."""

# C0 controls but tab, DEL and C1 controls, the bidi marks, embeddings, overrides and isolates, the Unicode line separators.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")

_NAMED = {"\n": "\\n", "\r": "\\r"}


def _visible(char: str) -> str:
    """The escape Python and pytest's test ids use: ESC -> \\x1b, U+202E -> \\u202e, CR -> \\r."""
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def _escaped(text: str) -> str:
    return _UNSAFE.sub(lambda m: _visible(m[0]), text)


def one_line(text: str, limit: int = LINE_LIMIT) -> str:
    """One field or evidence line: every control (newline too, tab kept) and bidi character escaped; at most
    `limit` characters, ending in "… (N more characters)" when cut."""
    shown = _escaped(text[:limit])
    if len(text) <= limit and len(shown) <= limit:
        return shown
    budget = limit - len(f"… ({len(text)} more characters)")
    kept = width = 0
    for char in text[:budget]:
        width += len(_escaped(char))
        if width > budget:
            break
        kept += 1
    return f"{_escaped(text[:kept])}… ({len(text) - kept} more characters)"


def for_terminal(text: str) -> str:
    """Multi-line text (a failure message, a remediation): its line breaks kept, each line as one_line makes it."""
    return "\n".join(one_line(line) for line in text.split("\n"))
