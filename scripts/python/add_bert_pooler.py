#!/usr/bin/env python3
"""Completes a BERT cross-encoder GGUF converted by llama.cpp's convert_hf_to_gguf.py.

`BertForSequenceClassification` computes classifier(tanh(pooler.dense(h_CLS))), but the converter
drops the BERT pooler (it converts BERT for embeddings), so llama.cpp would compute classifier(h_CLS):
a different function from the one that was trained. llama.cpp's rank pooling applies `cls.weight` /
`cls.bias` followed by tanh before `cls.output`, exactly the pooler; this script copies the GGUF and
adds the Hugging Face checkpoint's pooler as those two tensors (F32).

    add_bert_pooler.py --hf HF_MODEL_DIR --gguf converted.gguf --output complete.gguf
"""
import argparse
import sys
from pathlib import Path

import gguf
import numpy as np


def load_pooler(hf_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    names = ("bert.pooler.dense.weight", "pooler.dense.weight")
    for st in sorted(hf_dir.glob("*.safetensors")):
        from safetensors.numpy import load_file
        tensors = load_file(str(st))
        for n in names:
            if n in tensors:
                b = tensors[n.replace(".weight", ".bias")]
                return tensors[n].astype(np.float32), b.astype(np.float32)
    for pt in sorted(hf_dir.glob("pytorch_model*.bin")):
        import torch
        state = torch.load(str(pt), map_location="cpu", weights_only=True)
        for n in names:
            if n in state:
                return (state[n].float().numpy(), state[n.replace(".weight", ".bias")].float().numpy())
    raise SystemExit(f"error: {hf_dir} holds no BERT pooler (pooler.dense.weight): nothing to add")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hf", required=True, type=Path, help="the Hugging Face model directory")
    ap.add_argument("--gguf", required=True, type=Path, help="the GGUF convert_hf_to_gguf.py wrote")
    ap.add_argument("--output", required=True, type=Path, help="the completed GGUF to write")
    args = ap.parse_args()

    reader = gguf.GGUFReader(str(args.gguf))
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    names = {t.name for t in reader.tensors}
    if arch != "bert":
        raise SystemExit(f"error: {args.gguf} is a {arch} model; the pooler fix is for BERT")
    if "cls.output.weight" not in names:
        raise SystemExit(f"error: {args.gguf} has no classification head (cls.output): not a cross-encoder")
    if "cls.weight" in names:
        raise SystemExit(f"error: {args.gguf} already has cls.weight: nothing to add")
    weight, bias = load_pooler(args.hf)
    n_embd = reader.fields["bert.embedding_length"].contents()
    if weight.shape != (n_embd, n_embd) or bias.shape != (n_embd,):
        raise SystemExit(f"error: pooler shape {weight.shape} does not match embedding width {n_embd}")

    tmp = args.output.with_name(args.output.name + ".tmp")
    writer = gguf.GGUFWriter(str(tmp), arch=arch, endianess=reader.endianess)
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue  # written by GGUFWriter itself
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), vtype, sub_type=sub)
    extra = {"cls.weight": weight, "cls.bias": bias}
    for t in reader.tensors:
        writer.add_tensor_info(t.name, t.data.shape, t.data.dtype, t.data.nbytes, t.tensor_type)
    for name, data in extra.items():
        writer.add_tensor_info(name, data.shape, data.dtype, data.nbytes, gguf.GGMLQuantizationType.F32)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for t in reader.tensors:
        writer.write_tensor_data(t.data, tensor_endianess=reader.endianess)
    for data in extra.values():
        writer.write_tensor_data(data)
    writer.close()
    tmp.replace(args.output)
    print(f"wrote {args.output}: {args.gguf.name} + BERT pooler as cls.weight/cls.bias", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
