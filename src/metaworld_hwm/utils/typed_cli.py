"""Command-line options from a typed dataclass (tyro): a field an option, its docstring the help.

:func:`parse_options` turns a command's arguments into an instance. A mistake in them (an
unknown option, a bad or missing value, a value the class's ``__post_init__`` rejects) raises
:class:`~metaworld_hwm.utils.user_errors.UserError` with one line naming it, as every other
user mistake at the command line (tyro itself would print a box).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import tyro

# tyro's parse-error hook is its own, unstable interface; pyproject.toml pins tyro exactly.
from tyro import _errors as tyro_errors

from metaworld_hwm.utils.user_errors import UserError

T = TypeVar("T")


def parse_options(cls: type[T], args: Sequence[str], prog: str) -> T:
    """An instance of ``cls`` from ``args``; ``-h``/``--help`` prints the help and exits 0.

    Raises:
        UserError: the options are not valid (the message names the option and the fix).
    """
    with tyro_errors.on_parse_error(_raise_user_error):
        return tyro.cli(cls, args=list(args), prog=prog)


def _raise_user_error(event: tyro_errors.ParseErrorEvent) -> None:
    raise UserError(describe(event))


def describe(event: tyro_errors.ParseErrorEvent) -> str:
    """One line for a parse failure, worded as argparse words its own."""
    see = f"see {event.prog} --help"
    if isinstance(event, tyro_errors.UnrecognizedArgs):
        return f"unrecognized arguments: {' '.join(event.tokens)}; {see}"
    if isinstance(event, tyro_errors.InvalidChoice):
        return (f"argument {event.argument.display_name()}: invalid choice {event.value!r} "
                f"(choose from {', '.join(event.choices)})")  # fmt: skip
    if isinstance(event, tyro_errors.BadValue):
        name = event.argument.display_name()
        if event.offending_value is not None:  # a flag given a value
            return f"argument {name}: takes no value, got {event.offending_value!r}"
        return f"argument {name}: expected a value; {see}"
    if isinstance(event, tyro_errors.InstantiationFailure):
        name = "" if event.argument is None else f"argument {event.argument.display_name()}: "
        return name + event.message
    if isinstance(event, tyro_errors.MissingArgs):
        names = ", ".join(a.arg.display_name() for a in event.missing_arguments)
        return f"the following arguments are required: {names}"
    return f"invalid arguments; {see}"
