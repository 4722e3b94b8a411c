"""The README tells secret scanners how to verify a token offline; its snippet must agree with
tokens/codec.py, token for token."""

import random
import re
import string
from pathlib import Path

import pytest

from tokens import codec

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def snippet() -> dict:
    text = README.read_text()
    section = text[text.index("### The token format, for secret scanners") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 (our own README)
    return namespace


def test_the_documented_regex_is_the_snippets(snippet):
    text = README.read_text()
    section = text[text.index("### The token format, for secret scanners") :]
    documented = re.search(r"```\n(.*?)\n```", section, re.S).group(1)
    assert snippet["TOKEN"].pattern == documented
    assert snippet["ALPHABET"] == codec.ALPHABET


def test_the_snippet_accepts_every_token_the_codec_makes(snippet):
    for kind in sorted(codec.KINDS):
        for _ in range(300):
            value = codec.generate(kind)
            assert snippet["is_tessera_token"](value), value


def test_the_snippet_refuses_exactly_what_the_codec_refuses(snippet):
    rng = random.Random(11)
    alphabet = codec.ALPHABET + "_-."
    for _ in range(3000):
        value = codec.generate(rng.choice(sorted(codec.KINDS)))
        chars = list(value)
        for _ in range(rng.randint(1, 2)):
            chars[rng.randrange(len(chars))] = rng.choice(alphabet)
        mutated = "".join(chars)
        try:
            codec.parse(mutated)
            expected = True
        except codec.MalformedToken:
            expected = False
        assert snippet["is_tessera_token"](mutated) is expected, mutated


def test_the_worked_example_in_the_readme_checks_out(snippet):
    start, check = "tsr_pat_abcdefghijklmnopqrstuvwxyz0123", "47L1FL"
    example = start + check  # joined here: the README holds no whole token, even a made-up one
    assert f"`{start}` has the CRC 0xE0E30903, which is `{check}`" in README.read_text()
    assert codec.parse(example).kind == "pat"
    assert snippet["is_tessera_token"](example)
    assert codec.base62(0xE0E30903, 6) == "47L1FL"


def test_the_snippet_finds_tokens_in_text_and_skips_lookalikes(snippet):
    real = [codec.generate("pat"), codec.generate("prj")]
    mistyped = real[0][:-1] + ("0" if real[0][-1] != "0" else "1")
    text = (
        f"export TESSERA_TOKEN={real[0]}\n"
        f'token: "{real[1]}", typo: {mistyped}, glued: x{codec.generate("agt")}\n'
        f"{''.join(random.choices(string.ascii_letters, k=50))}"
    )
    assert snippet["find_tessera_tokens"](text) == real


def test_the_partner_registration_patterns_match_each_kind_and_only_it():
    text = (README.parent / "docs" / "secret-scanning.md").read_text()
    patterns = dict(re.findall(r"\| `(tessera_\w+)` \| `([^`]+)` \|", text))
    kinds = {
        "tessera_personal_access_token": "pat",
        "tessera_agent_token": "agt",
        "tessera_project_token": "prj",
    }
    assert set(patterns) == set(kinds)
    for name, kind in kinds.items():
        pattern = re.compile(patterns[name])
        for other in sorted(codec.KINDS):
            value = codec.generate(other)
            assert bool(pattern.search(f"token = '{value}'")) is (other == kind)
        assert not pattern.search(f"x{codec.generate(kind)}")  # inside a longer word
