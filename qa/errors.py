"""Error hierarchy of the ``qa`` package.

Every class subclasses one of :mod:`preflight.errors`' bases, so the shared CLI handler
(:func:`preflight.cliutil.handle_errors`) maps them to the documented exit codes without knowing
this package:

=======================  =====================================================  ====
class                    meaning                                                exit
=======================  =====================================================  ====
:class:`QAUsageError`    inconsistent options (bad ``--box``, two region kinds,  2
                         boxes that cover the whole frame)
:class:`QAInputError`    a video cannot be read                                  3
:class:`MaskError`       a mask file is unreadable, empty, covers everything,    3
                         or has another aspect ratio than the source
:class:`AlignmentError`  the two videos cannot be paired: aspect ratio or        3
                         duration differ beyond tolerance
=======================  =====================================================  ====

Library code raises these; only :mod:`qa.cli` turns them into exit codes, so the Python API can
be used inside a pipeline that catches :class:`preflight.errors.InputError` and moves on.
"""

from __future__ import annotations

from preflight.errors import InputError, PreflightError, UsageError


class QAError(PreflightError):
    """Base class of every error ``qa`` raises on purpose."""


class QAUsageError(QAError, UsageError):
    """The caller asked for something inconsistent (exit code 2)."""


class QAInputError(QAError, InputError):
    """An input file is missing, unreadable or unusable (exit code 3).

    Parameters
    ----------
    path : str
        The offending file, named first in the message.
    problem : str
        One line saying what is wrong and, where possible, how to fix it.
    """


class MaskError(QAInputError):
    """A region mask cannot be used: unreadable, empty, covering the whole frame, wrong aspect."""


class AlignmentError(QAInputError):
    """Source and edited clips cannot be paired frame by frame (aspect ratio, duration)."""
