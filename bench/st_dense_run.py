"""The sentence-transformers reference of a dense run (bench/first_stage_results.sh): encodes a BEIR
corpus ("title text") and queries with the model's own safetensors (normalised vectors, its
max_seq_length), searches exactly with numpy and writes a TREC run, dropping a hit whose id is the
query's, as rerank.cpp's --remove-query does.
Usage: python bench/st_dense_run.py HF_DIR CORPUS.jsonl QUERIES.jsonl QRELS.tsv OUT.run [DEPTH]"""
import json
import sys
import time

import numpy as np
import torch
from sentence_transformers import SentenceTransformer


def main(hf_dir, corpus_path, queries_path, qrels_path, out, depth="1000"):
    depth = int(depth)
    torch.set_num_threads(2)
    with open(corpus_path, encoding="utf-8") as f:
        corpus = [json.loads(line) for line in f if line.strip()]
    with open(queries_path, encoding="utf-8") as f:
        queries = {q["_id"]: q["text"] for q in (json.loads(line) for line in f if line.strip())}
    with open(qrels_path, encoding="utf-8") as f:
        judged = sorted({line.split("\t")[0] for line in list(f)[1:]}, key=lambda q: (len(q), q))
    st = SentenceTransformer(hf_dir, device="cpu")
    start = time.time()
    docs = st.encode([f"{d.get('title', '')} {d['text']}" for d in corpus], batch_size=32,
                     normalize_embeddings=True, convert_to_numpy=True)
    seconds = time.time() - start
    qv = st.encode([queries[q] for q in judged], normalize_embeddings=True, convert_to_numpy=True)
    scores = qv @ docs.T
    ids = [d["_id"] for d in corpus]
    with open(out, "w", encoding="utf-8") as f:
        for qi, q in enumerate(judged):
            order = np.argsort(-scores[qi], kind="stable")
            hits = [i for i in order[:depth + 1] if ids[i] != q][:depth]
            f.writelines(f"{q} Q0 {ids[i]} {r + 1} {scores[qi][i]:.6f} st\n" for r, i in enumerate(hits))
    print(f"sentence-transformers {st.max_seq_length}-token limit: {len(corpus)} documents in {seconds:.0f} s "
          f"({len(corpus) / seconds:.1f} docs/s, 2 threads)")


if __name__ == "__main__":
    main(*sys.argv[1:])
