"""numbers.py helpers for scanning text (number parsing is tested in test_metrics.py)."""
import re

import pytest
from hypothesis import given, settings, strategies as st

from reportatlas.numbers import find_all


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="年月截至以来季度五”x", max_size=40),
       st.lists(st.sampled_from(["年", "月", "截至", "以来", "季度", "五”"]), unique=True, min_size=1))
def test_find_all_gives_every_occurrence_in_order(text, words):
    """Every start of each word, sorted, as a regular expression's scan finds them (the
    words share no character, so their occurrences cannot overlap)."""
    expected = [m.start() for m in re.finditer("|".join(map(re.escape, words)), text)]
    assert find_all(text, words) == expected


def test_find_all_does_not_count_overlapping_occurrences_twice():
    assert find_all("园区园区区", ("园区",)) == [0, 2]
    assert find_all("aaaa", ("aa",)) == [0, 2]
    assert find_all("", ("年",)) == []


def test_find_all_refuses_an_empty_literal():
    with pytest.raises(ValueError):
        find_all("abc", ("a", ""))
