"""Fuzz the configuration loader: the shipped example broken field by field, and random YAML text.
The loader must answer with a Settings or a ConfigError naming what is wrong, never anything else."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from callserver.config import ConfigError, Settings, parse_settings, read_yaml

from ..helpers import ROOT
from .budget import fuzz_settings, ran
from .mutations import NASTY_TEXT

# huge generated frames and blocks: a failure must be reported, not turned into a warning about its size
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Generating overly large repr")]

EXAMPLE = yaml.safe_load((ROOT / "config" / "callcentre.yaml").read_text(encoding="utf-8"))
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | NASTY_TEXT
    | st.sampled_from(["", "0.0.0.0/0", "::", "999.1.1.1", "PJSIP/", "+", "$argon2id$v=19$x"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NASTY_TEXT, inner, max_size=3),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


PATHS = _paths(EXAMPLE)


@st.composite
def broken_example(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(EXAMPLE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(PATHS))
        parent = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or replaced this branch
    return data


def _loads(data: Any) -> None:
    try:
        settings = parse_settings(data, "<fuzz>", env={})
    except ConfigError as err:
        assert err.problems and all(isinstance(p, str) and p for p in err.problems)
    else:
        assert isinstance(settings, Settings)


@fuzz_settings(short=200, long=10_000)
@given(data=broken_example())
def test_broken_example_config_is_settings_or_a_named_error(data: Any) -> None:
    ran("config loader, broken example (in process)")
    _loads(data)


@fuzz_settings(short=200, long=10_000)
@given(
    text=NASTY_TEXT | st.binary(max_size=400).map(lambda b: b.decode("latin-1")) | VALUES.map(yaml.safe_dump)
)
def test_random_yaml_is_settings_or_a_named_error(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    ran("config loader, random YAML (in process)")
    path = Path(tmp_path_factory.getbasetemp()) / "fuzz-config.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        data = read_yaml(path)
    except ConfigError as err:
        assert err.problems
        return
    _loads(data)
