import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.imports import top_level_imports
from tokens import codec

kinds = st.sampled_from(sorted(codec.KINDS))


@given(kinds)
def test_a_generated_token_parses_back_to_its_kind(kind):
    value = codec.generate(kind)
    parsed = codec.parse(value)
    assert parsed.kind == kind
    assert parsed.value == value
    assert len(value) == codec.TOKEN_LENGTH == 44
    assert value.startswith(f"tsr_{kind}_")


@given(kinds, st.data())
def test_every_single_character_change_is_rejected_offline(kind, data):
    value = codec.generate(kind)
    position = data.draw(st.integers(0, len(value) - 1))
    replacement = data.draw(
        st.sampled_from(string.ascii_letters + string.digits + "_-.").filter(
            lambda c: c != value[position]
        )
    )
    changed = value[:position] + replacement + value[position + 1 :]
    with pytest.raises(codec.MalformedToken):
        codec.parse(changed)


def test_every_position_and_every_alphabet_character_is_checked():
    value = codec.generate("pat")
    for position in range(len(value)):
        for replacement in codec.ALPHABET + "_":
            if replacement == value[position]:
                continue
            with pytest.raises(codec.MalformedToken):
                codec.parse(value[:position] + replacement + value[position + 1 :])


@given(st.text(max_size=60))
def test_arbitrary_text_is_rejected_without_crashing(text):
    with pytest.raises(codec.MalformedToken):
        codec.parse(text)


@pytest.mark.parametrize(
    "value",
    ["", "tsr_pat_", "tsr_xyz_" + "a" * 36, "abc_pat_" + "a" * 36, "tsr_pat_" + "é" * 36],
)
def test_wrong_shapes_are_malformed(value):
    with pytest.raises(codec.MalformedToken):
        codec.parse(value)


def test_dropping_or_adding_a_character_is_rejected():
    value = codec.generate("agt")
    for broken in (value[:-1], value + "a", value[1:], "a" + value):
        with pytest.raises(codec.MalformedToken):
            codec.parse(broken)


def test_tokens_carry_at_least_160_random_bits():
    import math

    assert codec.RANDOM_LENGTH * math.log2(len(codec.ALPHABET)) >= 160
    assert len({codec.generate("pat") for _ in range(2000)}) == 2000


def test_display_prefix_is_the_kind_and_six_random_characters():
    value = codec.generate("pat")
    assert codec.display_prefix(value) == value[:14]
    assert codec.display_prefix(value) != value


def test_digest_is_sha256_hex():
    import hashlib

    value = codec.generate("pat")
    assert codec.digest(value) == hashlib.sha256(value.encode()).hexdigest()


def test_unknown_kind_cannot_be_generated():
    with pytest.raises(ValueError, match="unknown token kind"):
        codec.generate("xyz")


def test_codec_imports_nothing_from_django():
    assert "django" not in top_level_imports(codec)


def test_a_refresh_token_has_the_shape_but_is_never_a_bearer_token():
    refresh = codec.generate(codec.REFRESH)
    assert refresh.startswith("tsr_rft_") and len(refresh) == codec.TOKEN_LENGTH
    assert codec.parse(refresh, kinds=frozenset({codec.REFRESH})).kind == "rft"
    with pytest.raises(codec.MalformedToken):
        codec.parse(refresh)
