"""Benchmark: `useragent.classify` against `user_agents.parse` and inapp-spy (Node) on the same distinct user agents.

Run: .venv/bin/python bench/bench_useragent.py [--count 20000] [--rounds 3] [--quick]
Variants are made from tests/data/ua_corpus.tsv by re-drawing version numbers, so every
string is distinct and no cache helps the cold passes. inapp-spy (pinned by bench/node/) is
installed into .cache/toolchains/bench/ by scripts/npm-locked, with Debian's Node if missing.
classify and inapp-spy run in alternating rounds (median of each), each round on fresh UAs;
user_agents.parse once. Default: 3 rounds of 20,000 (about a minute); --quick: 5,000.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import user_agents

from webview_toolkit.registry import load_registry
from webview_toolkit.useragent import classify

from servers import machine  # bench/servers.py: the figures' caption

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "ua_corpus.tsv"
NODE_PACKAGE = ROOT / "bench" / "node"
NODE_MODULES = ROOT / ".cache" / "toolchains" / "bench"
NODE_RUNNER = ROOT / "bench" / "inapp_spy.js"
VERSION_RE = re.compile(r"(?<=[/ ])(\d+)\.(\d+)")
TARGET_VS_PARSE = 100.0  # classify at least this many times faster than user_agents.parse
TARGET_VS_INAPP_SPY = 2.0  # classify's time per UA at most this many times inapp-spy's


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


def classify_cold(uas: list[str]) -> float:
    """Microseconds per UA for classify with every cache emptied first."""
    classify.cache_clear()
    return timed(classify, uas) / len(uas) * 1e6


def inapp_spy(ua_file: Path, warm_file: Path) -> dict:
    """One Node run of bench/inapp_spy.js: its figures as a dict."""
    out = subprocess.run(["node", str(NODE_RUNNER), str(NODE_MODULES), str(ua_file), str(warm_file)],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    return json.loads(out.strip().splitlines()[-1])


def verdict(ok: bool) -> str:
    """MEETS or MISSES."""
    return "MEETS" if ok else "MISSES"


def main() -> None:
    """Print per-UA times, the ratios and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="alternating classify / inapp-spy rounds")
    parser.add_argument("--quick", action="store_true", help="5,000 user agents")
    args = parser.parse_args()
    count = 5_000 if args.quick else args.count
    subprocess.run([str(ROOT / "scripts" / "npm-locked"), str(NODE_PACKAGE), str(NODE_MODULES)], check=True)
    print(machine())
    seeds = corpus_user_agents()
    # A fresh slice of distinct UAs per round and for user_agents.parse: ua-parser keeps a cache of
    # its own (2,000 UAs) that classify's fallback parses would otherwise warm for the next round.
    pool = variants(seeds, count * (args.rounds + 1), random.Random(1234))
    slices = [pool[i * count:(i + 1) * count] for i in range(args.rounds + 1)]
    uas = slices[-1]
    classify("warm up: load and compile the registry once")

    with tempfile.TemporaryDirectory() as folder:
        warm_file = Path(folder) / "warm.txt"
        warm_file.write_text("\n".join(seeds) + "\n", encoding="utf-8")
        ours, theirs = [], []
        for index, round_uas in enumerate(slices[:-1]):
            ua_file = Path(folder) / f"uas-{index}.txt"
            ua_file.write_text("\n".join(round_uas) + "\n", encoding="utf-8")
            ours.append(classify_cold(round_uas))
            theirs.append(inapp_spy(ua_file, warm_file))
    parse = timed(user_agents.parse, uas) / len(uas) * 1e6
    hot_set = uas[:1000]
    for ua in hot_set:
        classify(ua)
    rounds = 50
    hot = timed(classify, hot_set * rounds) / (len(hot_set) * rounds) * 1e6

    cold = statistics.median(ours)
    spy = statistics.median(run["us_per_ua"] for run in theirs)
    browsers = len(load_registry().browsers)
    print(f"user agents: {count} distinct per round (from {len(seeds)} corpus rows), {len(pool)} in all; "
          f"{args.rounds} alternating rounds, each on its own UAs, the same for both sides")
    print("what each side does per UA:")
    print(f"  classify           platform, mobile, in-app, which of {browsers} registry browsers/bots, iOS app_scheme,")
    print("                     bot, the merchant's own-app token, the escape mechanism (a ClientContext)")
    print("  user_agents.parse  browser, OS and device families and versions (ua-parser's regexes)")
    print(f"  inapp-spy          in-app or not and which of 13 apps (regexes; Node {theirs[0]['node']}, JIT warmed on")
    print("                     the corpus first); no OS, scheme, bot or own-app; "
          f"{theirs[0]['in_app']} of {count} in-app in round 1")
    print(f"classify, uncached:   {cold:8.2f} us/UA  (rounds: {', '.join(f'{x:.2f}' for x in ours)})")
    spy_rounds = ", ".join(f"{run['us_per_ua']:.2f}" for run in theirs)
    print(f"inapp-spy, Node:      {spy:8.2f} us/UA  (rounds: {spy_rounds})")
    print(f"user_agents.parse:    {parse:8.2f} us/UA  (one round, on UAs of its own)")
    print(f"classify, cached:     {hot:8.3f} us/UA  ({len(hot_set)} UAs x {rounds} rounds)")
    vs_parse, vs_spy = parse / cold, cold / spy
    print(f"classify vs user_agents.parse: {vs_parse:6.1f}x faster   target >= {TARGET_VS_PARSE:.0f}x   "
          f"{verdict(vs_parse >= TARGET_VS_PARSE)}")
    print(f"classify vs inapp-spy:         {vs_spy:6.2f}x its time  target <= {TARGET_VS_INAPP_SPY:.0f}x    "
          f"{verdict(vs_spy <= TARGET_VS_INAPP_SPY)}")


if __name__ == "__main__":
    main()
