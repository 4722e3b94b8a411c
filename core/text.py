"""Text that must stay on one line and look like what it is: names and titles, which reach
security emails (their subjects too), logs and lists."""

import unicodedata

# Line breaks (control characters, and the Unicode line and paragraph separators U+2028 and
# U+2029, which email headers refuse as firmly as a newline) and invisible formatting (bidi
# overrides such as U+202E, zero-width characters), which would let a name pose as another.
_NOT_ON_ONE_LINE = frozenset({"Cc", "Cf", "Zl", "Zp"})


def is_one_plain_line(text: str) -> bool:
    """Whether `text` has no line break and no invisible formatting character."""
    return not any(unicodedata.category(ch) in _NOT_ON_ONE_LINE for ch in text)


def one_line(text: str) -> str:
    """`text` with every line break, separator and other non-printing character made a space:
    safe for an email subject, whatever was stored before names were checked."""
    return "".join(
        " " if (kind := unicodedata.category(ch)).startswith("C") or kind in ("Zl", "Zp") else ch
        for ch in text
    )
