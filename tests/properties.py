"""Shared pieces of the property-based tests (``tests/test_properties_*.py``, hypothesis).

Every parser of user input is fed generated text; the property is the product's error
contract: the parser either returns or raises one of the project's own errors
(:class:`preflight.errors.PreflightError`), whose message is one line of at most
:data:`preflight.errors.MAX_MESSAGE` characters. Anything else (``OverflowError``,
``RecursionError``, ``OSError``, a bare ``ValueError``) escaping is a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from preflight.errors import MAX_MESSAGE, PreflightError

EXAMPLES = 10_000
"""Generated inputs per parser (issue 12: at least 10^4 each)."""

PARSER_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # reproducible in CI: the same inputs every run
    database=None,  # nothing written into the work tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def check_contract(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``func``; a project error must carry a one-line message of bounded length."""
    try:
        return func(*args, **kwargs)
    except PreflightError as exc:
        message = str(exc)
        assert "\n" not in message and "\r" not in message, message[:400]
        assert 0 < len(message) <= MAX_MESSAGE, (len(message), message[:400])
        return None


# Numbers as a user might type them, including hostile ones: huge digit strings, exponents,
# signs, nan/inf spellings, unicode digits.
NUMBER_TEXT = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=0, max_value=2, allow_nan=False).map(lambda f: f"{f:.6f}"),
    st.integers(min_value=1, max_value=600).map(lambda n: "1" * n),
    st.sampled_from(
        ["", "-", "+", ".", "1.", ".5", "nan", "inf", "-inf", "1e400", "0x10", "١٢", "²", "1_000"]
    ),
)

# Path-like text: plain names, very long ones, NUL bytes, separators, globs, dot names.
PATH_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", ".", "..", "/", "/dev/zero", "/dev/null", "*", "a/../b", "ref.png", "~/x.png"]),
    st.integers(min_value=200, max_value=6000).map(lambda n: "a" * n),
    st.integers(min_value=1, max_value=40).map(lambda n: "/".join(["d" * 300] * n)),
    st.text(alphabet="\x00/*?[].-a", max_size=20),
)
