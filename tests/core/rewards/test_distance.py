"""Bit-parallel edit distance and LCS equal the dynamic programmes they replace."""
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkpipe.core.rewards.distance import lcs, levenshtein


def _dp_edit(a, b):
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def _dp_lcs(a, b):
    row = [0] * (len(b) + 1)
    for x in a:
        prev = 0
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], prev + 1 if x == y else max(row[j], row[j - 1])
    return row[-1]


def test_hand_computed():
    assert levenshtein("kitten", "sitting") == 3          # k→s, e→i, +g
    assert levenshtein([], ["a", "b"]) == 2 and levenshtein(["a"], []) == 1
    assert levenshtein("flaw", "lawn") == 2
    assert lcs("ABCBDAB", "BDCABA") == 4                   # BCBA (Cormen et al.)
    assert lcs([], "abc") == 0 and lcs("aaa", "a") == 1
    assert levenshtein(["the", "cat"], ["the", "cat", "sat"]) == 1


tokens = st.lists(st.sampled_from("abcd"), max_size=80)    # few symbols: many repeats


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(tokens, tokens)
def test_equal_to_the_dynamic_programmes(a, b):
    assert levenshtein(a, b) == _dp_edit(a, b) == levenshtein(b, a)
    assert lcs(a, b) == _dp_lcs(a, b) == lcs(b, a)
