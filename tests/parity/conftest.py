"""Shared fixtures of the parity checks: rerank.cpp against reference implementations (PyTorch,
sentence-transformers, llama.cpp used plainly) on the same weights. Run by scripts/parity.sh."""
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# One thread for rerank.cpp and for PyTorch: both make their worker threads wait for each other by
# spinning, and on a shared 2-core machine a 3 s run then took 200 s. Scores do not depend on it.
THREADS = 1


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread_everywhere():
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    yield
    torch.set_num_threads(before)


def _kv_lines(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        for part in line.split():
            if "=" in part:
                k, v = part.split("=", 1)
                out[k] = v
    return out


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def rerank_bin() -> Path:
    path = Path(os.environ.get("RERANK_BIN", REPO / "build" / "rerank"))
    if not path.is_file():
        pytest.fail(f"{path} is missing: build rerank.cpp first (scripts/build.sh)")
    return path


@pytest.fixture(scope="session")
def llama_source() -> Path:
    src = os.environ.get("LLAMA_SOURCE")
    if not src:
        out = subprocess.run([str(REPO / "scripts" / "bootstrap.sh")], check=True, capture_output=True, text=True)
        src = _kv_lines(out.stdout)["LLAMA_SOURCE"]
    return Path(src)


@pytest.fixture(scope="session")
def fetched_models() -> dict[str, str]:
    """NAME -> path, as scripts/fetch_models.sh prints them (cached after the first run)."""
    out = subprocess.run([str(REPO / "scripts" / "fetch_models.sh")], check=True, capture_output=True, text=True)
    return _kv_lines(out.stdout)


@pytest.fixture(scope="session")
def scifact_dir() -> Path:
    d = Path(os.environ.get("RERANK_SHARED_DATASETS", REPO.parent / "shared" / "datasets")) / "scifact"
    if not (d / "corpus.jsonl").is_file():
        pytest.skip(f"SciFact is not at {d} (the shared test collections are absent)")
    return d


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="session")
def scifact(scifact_dir) -> dict:
    """SciFact's corpus (id -> {title, text}), test queries (id -> text) and test qrels (qid -> [docid])."""
    corpus = {d["_id"]: d for d in read_jsonl(scifact_dir / "corpus.jsonl")}
    queries = {q["_id"]: q["text"] for q in read_jsonl(scifact_dir / "queries.jsonl")}
    qrels: dict[str, list[str]] = {}
    with open(scifact_dir / "qrels" / "test.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            qid, did, _ = line.rstrip("\n").split("\t")
            qrels.setdefault(qid, []).append(did)
    return {"corpus": corpus, "queries": queries, "qrels": qrels}


def skip_without_native_bf16(precision: str) -> None:
    """BF16 needs AVX512-BF16 or AMX, INT8 needs VNNI (AVX-VNNI, AVX512-VNNI or AMX): rerank.cpp
    refuses them elsewhere (tests/cli checks the BF16 error)."""
    flags = Path("/proc/cpuinfo").read_text().split()
    if precision == "bf16" and "avx512_bf16" not in flags and "amx_bf16" not in flags:
        pytest.skip("this CPU has no native BF16 (AVX512-BF16 or AMX)")
    if precision == "int8" and not {"avx512_vnni", "avx_vnni", "amx_int8"} & set(flags):
        pytest.skip("this CPU has no VNNI (AVX-VNNI, AVX512-VNNI or AMX)")


def run_rerank(rerank_bin: Path, args: list[str]) -> None:
    proc = subprocess.run([str(rerank_bin), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"rerank {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")


def read_run_scores(path: Path) -> dict[tuple[str, str], float]:
    scores = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            qid, _, did, _, score, _ = line.split()
            scores[(qid, did)] = float(score)
    return scores


def convert_hf(llama_source: Path, hf_dir: Path, out: Path, outtype: str = "f32") -> Path:
    """The path users take: llama.cpp's own convert_hf_to_gguf.py."""
    import sys
    proc = subprocess.run(
        [sys.executable, str(llama_source / "convert_hf_to_gguf.py"), str(hf_dir), "--outtype", outtype,
         "--outfile", str(out)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"convert_hf_to_gguf.py {hf_dir} failed:\n{proc.stderr[-3000:]}")
    return out
