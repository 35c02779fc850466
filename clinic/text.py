"""Text people type that is shown to others: names and short answers.

Unicode's bidirectional controls make text read in another order than it is stored: a name
typed as "abc" + U+202E + "gnp.exe" shows as "abcexe.png". Names and short answers refuse them;
the joiners (ZWJ, ZWNJ) that Persian and Indic names need are kept. What was stored before is
shown isolated from the text around it (`<bdi>` in pages, `isolated` in plain text).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI; LRM, RLM; the Arabic letter mark.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
UNUSUAL_CHARACTERS = "Please remove the unusual characters from what you typed."


def refuse_bidi_controls(value: str) -> None:
    """A form or model validator."""
    if isinstance(value, str) and BIDI_CONTROLS.search(value):
        raise ValidationError(UNUSUAL_CHARACTERS, code="bidi_control")


def isolated(text: str) -> str:
    """Plain text (a page title, say) with this piece kept in its own direction."""
    return f"\u2068{text}\u2069"
