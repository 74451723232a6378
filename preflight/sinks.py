"""Callbacks the library reports through, and the one collector of warnings.

Library functions take ``progress`` (called with the number of frames just done) and
``on_warning`` (called with one line) callbacks; the CLI plugs progress bars and stderr into
them, a pipeline its own logging. :class:`WarningLog` keeps what was said, in order and once, for
the result, and forwards each line to the caller's sink as it comes.
"""

from __future__ import annotations

from collections.abc import Callable

ProgressSink = Callable[[int], None]
WarningSink = Callable[[str], None]


class WarningLog:
    """Collect one-line warnings in order, without repeats, and forward each new one.

    Parameters
    ----------
    forward : callable, optional
        Called with each new warning as it is raised (e.g. the CLI printing to stderr).

    Examples
    --------
    >>> log = WarningLog()
    >>> log("frame 3 is damaged"); log("frame 3 is damaged")
    >>> log.messages
    ('frame 3 is damaged',)
    """

    def __init__(self, forward: WarningSink | None = None) -> None:
        self._forward = forward
        self._messages: list[str] = []
        self._seen: set[str] = set()

    def __call__(self, message: str) -> None:
        if message in self._seen:
            return
        self._seen.add(message)
        self._messages.append(message)
        if self._forward is not None:
            self._forward(message)

    @property
    def messages(self) -> tuple[str, ...]:
        """Every warning so far, first first."""
        return tuple(self._messages)
