"""Outside JSON is refused before parsing when it nests too deeply, else parsed as usual."""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roomctl.core import jsonin

LEAF = st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\aä€ ')
DOCS = st.recursive(LEAF, lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids))


def test_deep_nesting_is_refused_without_recursing() -> None:
    deep = b"[" * 8000 + b"]" * 8000
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # json.loads would need 8000 frames; the check needs none
    try:
        with pytest.raises(jsonin.TooDeep):
            jsonin.loads(deep)
    finally:
        sys.setrecursionlimit(limit)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"sdp": "[" * 500 + '\\"{' * 200, "nested": [[[{"a": 1}]]]})
    assert jsonin.depth(text.encode()) == 5  # {, three [, {
    assert jsonin.loads(text)["nested"] == [[[{"a": 1}]]]


def test_the_limit_is_inclusive() -> None:
    at_limit = "[" * jsonin.MAX_DEPTH + "]" * jsonin.MAX_DEPTH
    assert jsonin.loads(at_limit) is not None
    with pytest.raises(jsonin.TooDeep, match="deeper than 32"):
        jsonin.loads("[" + at_limit + "]")


@given(DOCS, st.integers(0, 40))
def test_refuses_exactly_what_nests_too_deep(doc: object, wraps: int) -> None:
    for _ in range(wraps):
        doc = [doc]
    text = json.dumps(doc, ensure_ascii=False)
    if jsonin.depth(text.encode()) <= jsonin.MAX_DEPTH:
        assert jsonin.loads(text) == json.loads(text)
        assert jsonin.loads(text.encode()) == json.loads(text)
    else:
        with pytest.raises(jsonin.TooDeep):
            jsonin.loads(text)
