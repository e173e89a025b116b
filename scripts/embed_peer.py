#!/usr/bin/env python3
"""The peer for `vq-benchmark embed`'s speed: the same sentence model on the CPU in
PyTorch (sentence-transformers' default encode, batch 32) or ONNX Runtime (the model
exported with torch.onnx, batches of 32 sorted by length as sentence-transformers does,
mean pooling and normalisation in numpy), on the same number of threads.

    python scripts/embed_peer.py MODEL_DIR TEXTS.txt THREADS [--backend torch|onnx]
                                 [--limit N] [--output OUT.npy]

Prints one line: backend, texts, seconds and sentences/s (model loading and, for ONNX,
the export are not timed). Needs: torch, sentence-transformers, and for --backend onnx
onnx and onnxruntime (all from PyPI).
"""

import argparse
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("texts")
    ap.add_argument("threads", type=int)
    ap.add_argument("--backend", choices=["torch", "onnx"], default="torch")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--output", help="write the embeddings here (.npy) for a check")
    a = ap.parse_args()

    # Before torch loads, so its OpenMP pool is sized right from the start.
    os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
    import numpy as np
    import torch

    torch.set_num_threads(a.threads)
    with open(a.texts, encoding="utf-8") as f:
        texts = [line.rstrip("\n").rstrip("\r") for line in f]
    if a.limit:
        texts = texts[: a.limit]

    if a.backend == "torch":
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(a.model, device="cpu")
        model.encode(texts[:64], batch_size=a.batch_size)  # warm-up: first-call allocations
        t0 = time.perf_counter()
        emb = model.encode(texts, batch_size=a.batch_size, convert_to_numpy=True)
        secs = time.perf_counter() - t0
    else:
        emb, secs = onnx_encode(a, texts, np, torch)

    print(f"{a.backend}: {len(texts)} texts in {secs:.2f} s = {len(texts) / secs:.1f} sentences/s ({a.threads} threads)")
    if a.output:
        np.save(a.output, np.asarray(emb, dtype=np.float32))


def onnx_encode(a, texts, np, torch):
    import json

    import onnxruntime as ort
    from transformers import AutoModel, AutoTokenizer

    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "vq-embed-peer-" + os.path.basename(os.path.abspath(a.model)) + ".onnx")
    tok = AutoTokenizer.from_pretrained(a.model)
    max_len = 256
    sb = os.path.join(a.model, "sentence_bert_config.json")
    if os.path.exists(sb):
        max_len = json.load(open(sb)).get("max_seq_length", max_len)
    if not os.path.exists(path):
        bert = AutoModel.from_pretrained(a.model, attn_implementation="eager").eval().requires_grad_(False)

        class Hidden(torch.nn.Module):
            # Keyword arguments: BertModel.forward's positional order changes between releases.
            def forward(self, input_ids, attention_mask, token_type_ids):
                return bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

        dummy = tok(["hello world"], return_tensors="pt")
        torch.onnx.export(
            Hidden(),
            (dummy["input_ids"], dummy["attention_mask"], dummy["token_type_ids"]),
            path,
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "seq"} for n in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = a.threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])

    def run(batch):
        enc = tok(batch, padding=True, truncation=True, max_length=max_len, return_tensors="np")
        feed = {k: enc[k].astype(np.int64) for k in ["input_ids", "attention_mask", "token_type_ids"]}
        h = sess.run(None, feed)[0]
        m = enc["attention_mask"][..., None].astype(np.float32)
        e = (h * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)

    run(texts[:64])  # warm-up
    t0 = time.perf_counter()
    order = np.argsort([-len(t) for t in texts], kind="stable")
    out = None
    for s in range(0, len(texts), a.batch_size):
        idx = order[s : s + a.batch_size]
        e = run([texts[i] for i in idx])
        if out is None:
            out = np.zeros((len(texts), e.shape[1]), dtype=np.float32)
        out[idx] = e
    return out, time.perf_counter() - t0


if __name__ == "__main__":
    sys.exit(main())
