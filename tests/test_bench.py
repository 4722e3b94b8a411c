"""The benchmark's own moving parts, kept in step with the models (the bench is not run in CI)."""

import pytest
from django.db import connection

from bench.loadtest import parse_wrk
from bench.run import bulk_load_tokens, percentile
from tests.factories import make_token
from tokens import codec
from tokens.authentication import token_get_for_auth
from tokens.models import Token


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_bulk_load_tops_the_tokens_table_up_with_usable_rows(user, org):
    make_token(owner=user, organization=org)
    bulk_load_tokens(owner=user, organization=org, total=50)
    assert Token.objects.count() == 50
    filler = Token.objects.exclude(name__startswith="Token").first()
    assert filler.kind == "pat" and filler.scopes == ["tasks:read"] and filler.all_projects


def test_percentile_and_wrk_parsing():
    assert percentile(list(range(100)), 0.95) == 95
    output = """
  Latency Distribution
     50%    1.23ms
     75%  800.00us
     90%    2.00s
     99%   10.5ms
  36153 requests in 30.10s, 12.01MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   1201.12
"""
    parsed = parse_wrk(output)
    assert parsed["requests"] == 36153 and parsed["requests_per_second"] == 1201.12
    assert parsed["latency_ms"] == {"50": 1.23, "75": 0.8, "90": 2000.0, "99": 10.5}
    assert parsed["non_2xx"] == 3


def test_a_bulk_loaded_digest_authenticates_like_any_other(user, org):
    token, secret = make_token(owner=user, organization=org)
    assert token_get_for_auth(digest=codec.digest(secret)).pk == token.pk
