"""Tables that never cut a value: side by side when they fit the terminal, stacked when not.

rich is imported when something is printed, never when a view module is imported: ``validate``
and every ``--output json`` run print no table and do not pay for it.

A namespace name cut to ``kube-no…`` or a count cut to ``4 shutdo`` is worse than no table: every
cell is printed whole. When the columns do not fit the console's width (80 columns, a pipe, a
narrow pane), each row is printed as a block, one ``header: value`` line per column, the way
``kubectl describe`` reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

#: Spaces between two columns (rich's default padding, one on each side).
_GAP = 2


def text_console() -> Console:
    """The console the commands print to for people (rich loads here, and only here)."""
    from rich.console import Console  # noqa: PLC0415 - see the module's docstring

    return Console(highlight=False)


def print_table(console: Console, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print ``rows`` (rich markup allowed in cells) under ``headers``, every value whole."""
    from rich.table import Table  # noqa: PLC0415 - see the module's docstring
    from rich.text import Text  # noqa: PLC0415

    widths = [
        max(len(header), *(Text.from_markup(row[i]).cell_len for row in rows))
        for i, header in enumerate(headers)
    ] if rows else [len(h) for h in headers]  # fmt: skip
    if sum(widths) + _GAP * (len(headers) - 1) <= console.width:
        table = Table(box=None, header_style="bold", pad_edge=False)
        for header, width in zip(headers, widths, strict=True):
            table.add_column(header, no_wrap=True, min_width=width)
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    for row in rows:
        console.print(Text.from_markup(row[0], style="bold"))
        for header, cell in zip(headers[1:], row[1:], strict=True):
            console.print(Text.assemble(f"  {header.lower()}: ", Text.from_markup(cell)))


def escape(text: str) -> str:
    """``text`` with its rich markup escaped, to print a value as it is."""
    from rich.markup import escape as rich_escape  # noqa: PLC0415 - see the module's docstring

    return rich_escape(text)
