"""The benchmark's own moving parts (the benchmarks themselves run by `make bench` and
`make loadtest`, not in CI)."""

from bench.loadtest import parse_wrk
from bench.run import percentile, summarize
from bench.scaling import percentiles, synthetic_digest
from tokens import codec


def test_percentile_and_summary():
    assert percentile(list(range(100)), 0.95) == 95
    figures = summarize([1000, 2000, 3000, 4000])
    assert figures["n"] == 4 and figures["median_us"] == 2.5 and figures["p95_us"] == 4.0


def test_wrk_output_is_parsed():
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


def test_scaling_figures_and_synthetic_digests_have_the_real_shape():
    figures = percentiles([1000, 2000, 3000, 4000])
    assert figures["median_us"] == 2.5 and figures["p99_us"] == 4.0 and figures["max_us"] == 4.0
    # The loader computes encode(sha256(convert_to('scaling-' || n, 'UTF8')), 'hex') in SQL and
    # the lookups compute it here: PostgreSQL 15 gives this for n = 7.
    digest = synthetic_digest(7)
    assert digest == "2decf6511e005f1abc64a63f13b88a8ef81f7f0e7e94a2bc8c4161a961786a5e"
    assert len(digest) == len(codec.digest(codec.generate()))
