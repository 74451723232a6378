"""Property-based test (hypothesis): every option of every console command through click's own
parsing, 10^4 generated values per option.

``tests/test_properties_cli.py`` runs whole commands on generated option lists, which spreads its
inputs over every option; here each option gets :data:`properties.EXAMPLES` values of its own,
parsed as click parses a command line (the option's type, choices, ranges and callbacks, as
``make_context`` runs them) without running the command (each example gives every option one
value, so each option sees 10^4). The property: a value is taken, or
refused as a usage error (click's, or the project's own error) on one line; nothing else
escapes.
"""

from __future__ import annotations

import click
from hypothesis import given
from hypothesis import strategies as st
from properties import NUMBER_TEXT, PARSER_SETTINGS, PATH_TEXT

from preflight.cli.main import cli as preflight_cli
from preflight.errors import MAX_MESSAGE, PreflightError
from qa.cli import cli as qa_cli

# A command line cannot hold a NUL character (argv entries are C strings); anything else can.
VALUE = st.one_of(NUMBER_TEXT, PATH_TEXT, st.text(max_size=24),
                  st.sampled_from(["0", "1", "-1", "1e400", "nan", "inf", "full", "auto", "", " "]),
                  ).filter(lambda v: "\x00" not in v)


def _every_option() -> list[tuple[click.Command, str, str]]:
    """(a command holding only that option, where it comes from, the option) for every option
    that takes a value: parsing it alone runs exactly its type, choices and callback."""
    out = []
    for group in (preflight_cli, qa_cli):
        for name, cmd in sorted(group.commands.items()):
            for param in cmd.params:
                if isinstance(param, click.Option) and not param.is_flag and not param.count:
                    alone = click.Command(name, params=[param], callback=lambda **_kw: None)
                    out.append((alone, f"{group.name} {name}", param.opts[0]))
    return out


OPTIONS = _every_option()


def test_every_command_has_its_options_here():
    assert len(OPTIONS) >= 40 and {o for _c, _n, o in OPTIONS} >= {"--box", "--jobs", "--crf", "--worst"}


def _parse(alone: click.Command, where: str, option: str, value: str) -> None:
    argv = [option, *([value] * max(alone.params[0].nargs, 1))]
    try:
        with alone.make_context(where, argv) as _ctx:
            pass
    except click.ClickException as exc:  # a usage error: click's own or a callback's
        message = exc.format_message()
        assert "\n" not in message.strip(), (where, argv, message[:300])
    except PreflightError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) <= MAX_MESSAGE, (where, argv, message[:300])


@PARSER_SETTINGS
@given(values=st.lists(VALUE, min_size=len(OPTIONS), max_size=len(OPTIONS)))
def test_option_parsing(values: list[str]) -> None:
    """Each example gives every option a value of its own: 10^4 generated values per option."""
    for (alone, where, option), value in zip(OPTIONS, values, strict=True):
        _parse(alone, where, option, value)
