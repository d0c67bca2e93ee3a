"""What a client must get back from `rerank serve`: the library's own scores for the same inputs.

The reference is the CLI (`rerank rerank --candidates ... --strategy pointwise`) run with the same
binary, model file and thread count as the server, so the two differ only in how requests reach the
reranker. The runtimes lay sequences out so that a pair's score does not depend on its batch-mates;
the only other arithmetic is the sigmoid (the server's std::exp against the test's exp: both
glibc's in Python, and Python reads the server's numbers bit for bit; V8's own Math.exp in node,
measured one ulp off for some documents) and JSON number round trips (shortest round-trip text on
both sides). Hence a relative tolerance of 1e-6: wide enough for an ulp or a float32 reader, far
below any real scoring difference (chunking documents at 12 tokens instead moves scores by ~0.1). The model is random-weight: its scores mean nothing as relevance.
"""
import json
import math
import os
import subprocess
import tempfile

REL_TOL = 1e-6
ABS_TOL = 1e-12

QUERY = "why does the planet mars look red"
DOCS = [
    "Mars looks red because iron minerals in its dust and rocks have oxidised, much like rust.",
    "The Great Red Spot is a storm on Jupiter larger than the Earth.",
    "Sunsets on Mars are blue: fine dust scatters blue light forward.",
    "Rote Planeten: Der Mars erscheint rötlich wegen Eisenoxid — 火星は赤い.",
    "A recipe for tomato soup needs ripe tomatoes, onions and basil.",
    "Olympus Mons on Mars is the tallest volcano in the solar system.",
]


def env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run these tests through scripts/client_tests.sh")
    return value


def library_logits(query, texts):
    """The library's pointwise scores (the cross-encoder's logits) of `texts` for `query`."""
    with tempfile.TemporaryDirectory() as tmp:
        candidates = os.path.join(tmp, "candidates.jsonl")
        run = os.path.join(tmp, "run.trec")
        line = {"query_id": "q", "query": query,
                "candidates": [{"id": f"d{i}", "text": t} for i, t in enumerate(texts)]}
        with open(candidates, "w", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
        subprocess.run([env("RERANK_BIN"), "rerank", "--model", env("RERANK_TEST_MODEL"),
                        "--candidates", candidates, "--strategy", "pointwise",
                        "--depth", str(len(texts)), "--threads", env("RERANK_THREADS"),
                        "--output", run], check=True, capture_output=True)
        scores = {}
        with open(run, encoding="utf-8") as f:
            for row in f:
                _qid, _q0, doc, _rank, score, _tag = row.split()
                scores[int(doc[1:])] = float(score)
    assert sorted(scores) == list(range(len(texts))), f"the run has documents {sorted(scores)}"
    return [scores[i] for i in range(len(texts))]


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def assert_close(got, want, what):
    assert math.isclose(got, want, rel_tol=REL_TOL, abs_tol=ABS_TOL), \
        f"{what}: server {got!r}, library {want!r}"


def check_ranking(pairs, logits, top_n=None, scale=sigmoid):
    """`pairs`: (index, score) in the order the client read them. They must be the library's best
    min(top_n, n) documents, best first, each scored scale(library logit)."""
    n = len(logits)
    count = min(top_n or n, n)
    assert len(pairs) == count, f"{len(pairs)} results, expected {count}"
    indices = [i for i, _ in pairs]
    assert all(isinstance(i, int) and 0 <= i < n for i in indices), indices
    assert len(set(indices)) == count, f"repeated indices {indices}"
    for i, score in pairs:
        assert_close(score, scale(logits[i]), f"document {i}")
    scores = [s for _, s in pairs]
    assert scores == sorted(scores, reverse=True), f"not best first: {scores}"
    best = sorted(range(n), key=lambda i: -logits[i])[:count]
    assert set(indices) == set(best), f"returned {indices}, the library's best are {best}"
