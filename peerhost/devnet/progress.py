"""Progress lines for long steps: what is happening, then how long it took."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Progress:
    """Prints ``==> step…`` when a step starts and ``    done in 1.2 s`` when it ends.

    Args:
        out: Where lines go (``click.echo`` in the CLI; a list's ``append`` in tests).
    """

    def __init__(self, out: Callable[[str], None] = print) -> None:
        self.out = out

    @contextmanager
    def step(self, title: str) -> Iterator[Callable[[str], None]]:
        """A step; the yielded function prints an indented detail line."""
        started = time.monotonic()
        self.out(f"==> {title}")
        try:
            yield lambda line: self.out(f"    {line}")
        except BaseException:
            self.out(f"    failed after {time.monotonic() - started:.1f} s")
            raise
        self.out(f"    done in {time.monotonic() - started:.1f} s")

    def line(self, text: str = "") -> None:
        self.out(text)


def quiet() -> Progress:
    """A Progress that prints nothing."""
    return Progress(lambda _line: None)
