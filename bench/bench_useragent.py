"""Benchmark: `useragent.classify` against `user_agents.parse` on the same 20,000+ distinct user agents.

Run: .venv/bin/python bench/bench_useragent.py [--count 20000]
Variants are made from tests/data/ua_corpus.tsv by re-drawing version numbers, so every
string is distinct and the classify cache never helps the cold pass.
"""
from __future__ import annotations

import argparse
import random
import re
import time
from pathlib import Path

import user_agents

from webview_toolkit.useragent import classify

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "ua_corpus.tsv"
VERSION_RE = re.compile(r"(?<=[/ ])(\d+)\.(\d+)")


def corpus_user_agents() -> list[str]:
    """The corpus's user agents, in file order."""
    lines = [line for line in CORPUS.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    return [line.split("\t", 1)[0] for line in lines[1:]]


def variants(seeds: list[str], count: int, rng: random.Random) -> list[str]:
    """`count` distinct user agents made by re-drawing the seeds' version numbers."""
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        seed = seeds[len(out) % len(seeds)]
        ua = VERSION_RE.sub(lambda m: f"{rng.randint(1, 140)}.{rng.randint(0, 99)}", seed)
        if ua not in seen:
            seen.add(ua)
            out.append(ua)
    return out


def timed(function, items) -> float:
    """Seconds to call `function` on every item."""
    start = time.perf_counter()
    for item in items:
        function(item)
    return time.perf_counter() - start


def main() -> None:
    """Print per-call times and the speed-up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    args = parser.parse_args()
    uas = variants(corpus_user_agents(), args.count, random.Random(1234))
    classify("warm up: load and compile the registry once")
    classify.cache_clear()

    cold = timed(classify, uas)
    parse = timed(user_agents.parse, uas)
    hot_set = uas[:1000]
    for ua in hot_set:
        classify(ua)
    rounds = 50
    hot = timed(classify, hot_set * rounds)

    n = len(uas)
    print(f"user agents: {n} distinct (from {len(corpus_user_agents())} corpus rows)")
    print(f"classify, uncached:   {cold / n * 1e6:8.2f} us/UA  ({cold:.2f} s)")
    print(f"user_agents.parse:    {parse / n * 1e6:8.2f} us/UA  ({parse:.2f} s)")
    print(f"speed-up:             {parse / cold:8.1f}x faster than user_agents.parse")
    print(f"classify, cached:     {hot / (len(hot_set) * rounds) * 1e6:8.3f} us/UA  "
          f"({len(hot_set)} UAs x {rounds} rounds)")


if __name__ == "__main__":
    main()
