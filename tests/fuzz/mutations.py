"""Hypothesis strategies that start from real protocol text (the recorded Asterisk transcripts) and
break it the way a broken or hostile peer would: lines dropped, doubled, cut, values replaced by
random text or bytes, keys garbled, garbage lines inserted."""

from __future__ import annotations

from hypothesis import strategies as st

# text that includes what peers should not send: control characters, NUL, invalid surrogates are
# impossible in str, so odd bytes come in through latin-1
NASTY_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80
) | st.binary(max_size=80).map(lambda b: b.decode("latin-1"))
NUMBERS = st.integers(min_value=-(2**70), max_value=2**70).map(str)
VALUES = NASTY_TEXT | NUMBERS | st.sampled_from(["", "<unknown>", "00:00:03", "99:99:99", "-1", "1e309"])


@st.composite
def mutated_lines(draw: st.DrawFn, seeds: list[list[str]]) -> list[str]:
    """The lines of one seed message, mutated a few times."""
    lines = list(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["drop", "double", "value", "key", "insert", "cut", "swap"]))
        if not lines:
            lines.append(draw(NASTY_TEXT))
            continue
        i = draw(st.integers(0, len(lines) - 1))
        key, sep, value = lines[i].partition(":")
        if op == "drop":
            del lines[i]
        elif op == "double":
            lines.insert(i, lines[i])
        elif op == "value":
            lines[i] = f"{key}: {draw(VALUES)}" if sep else draw(VALUES)
        elif op == "key":
            lines[i] = f"{draw(NASTY_TEXT)}:{value}"
        elif op == "insert":
            lines.insert(i, draw(NASTY_TEXT))
        elif op == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    return lines
