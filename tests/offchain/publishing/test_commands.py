"""The owner's version commands' shared argument handling."""

from __future__ import annotations

import click
import pytest

from peerhost.publishing.commands import split_target


def test_split_target__project_and_function__both_returned() -> None:
    assert split_target("shop/orders-create") == ("shop", "orders-create")


@pytest.mark.parametrize("target", ["shop", "shop/", "/orders-create", ""])
def test_split_target__a_part_missing__usage_error_with_an_example(target: str) -> None:
    with pytest.raises(click.BadParameter, match="PROJECT/FUNCTION, e.g. shop/orders-create"):
        split_target(target)
