"""The labelled user-agent corpus, tests/data/ua_corpus.tsv, as rows of its columns."""
from __future__ import annotations

from pathlib import Path

CORPUS_PATH = Path(__file__).parent / "data" / "ua_corpus.tsv"


def load_corpus() -> list[dict[str, str]]:
    """Every row of the corpus, as {column: value} (comment lines left out)."""
    lines = [line.rstrip("\n") for line in CORPUS_PATH.read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


CORPUS = load_corpus()
