"""The base of the string-valued modes in results (``class X(str, Enum)``: Python 3.10 has no
``enum.StrEnum``).

Members compare equal to their values, serialise to them in JSON, and print as them in messages
and f-strings (``str()``/``format()`` give the value, not ``Class.MEMBER``), so replacing a plain
string field by one changes no output.
"""

from __future__ import annotations

from enum import Enum


class TextEnum(str, Enum):
    """A string-valued enum that prints as its value.

    Examples
    --------
    >>> class Mode(TextEnum):
    ...     KEEP = "keep"
    >>> f"{Mode.KEEP}", Mode("keep") is Mode.KEEP, Mode.KEEP == "keep"
    ('keep', True, True)
    """

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)
