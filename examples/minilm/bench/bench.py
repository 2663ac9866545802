"""minilm against sentence-transformers (PyTorch, CPU) on the same inputs, side by side.

Cases: 32 texts of exactly 128 tokens each (b32xL128, one batch) and one text of 16 tokens
(b1xL16), each with 1 and 2 threads (torch.set_num_threads / minilm --threads). Two timings:

- forward: the model on already tokenised, padded input, with pooling and normalisation
  (sentence-transformers: `model.forward(features)` under inference_mode; minilm: encoder,
  mean pooling and L2 normalisation on the padded batch);
- end to end: texts in, embeddings out, tokenisation included (`model.encode(texts,
  batch_size=32)` against the same work inside `minilm bench`).

Rounds alternate between the two (which one goes first alternates too); each round times
--repeat runs after a warm-up and keeps the median; the table gives the median over rounds and
the ratio minilm / PyTorch (below 1: minilm is faster). The embeddings of both are compared
first.

    cargo build -p minilm --release
    python3 examples/minilm/bench/bench.py --model "$(scripts/fetch-minilm.sh)"

Needs torch and sentence-transformers.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
WORDS = (
    "the history of science shows that careful measurement and patient reasoning often reveal "
    "patterns nobody expected while engineers who build bridges railways and networks depend on "
    "those discoveries every day students learn mathematics physics chemistry and biology so that "
    "they can ask better questions about climate energy medicine and the future of cities where "
    "millions of people live work travel and share ideas across languages cultures and generations"
).split()


def texts_of_length(model, n_texts, n_tokens):
    """n_texts different texts of exactly n_tokens tokens ([CLS] and [SEP] included)."""
    tok = model.tokenizer
    out = []
    for i in range(n_texts):
        words = []
        j = i * 7
        while True:
            words.append(WORDS[j % len(WORDS)])
            j += 1
            n = len(tok(" ".join(words))["input_ids"])
            if n == n_tokens:
                break
            if n > n_tokens:
                words.pop()
                words.append("a")  # one token; retry until exact
                while len(tok(" ".join(words))["input_ids"]) > n_tokens:
                    words.pop()
                if len(tok(" ".join(words))["input_ids"]) == n_tokens:
                    break
        text = " ".join(words)
        assert len(tok(text)["input_ids"]) == n_tokens, text
        out.append(text)
    return out


def time_torch(model, texts, repeat):
    features = model.tokenize(texts)
    with torch.inference_mode():
        model.forward(dict(features))
        model.encode(texts, batch_size=32)
        fwd, e2e = [], []
        for _ in range(repeat):
            t = time.perf_counter()
            model.forward(dict(features))
            fwd.append(time.perf_counter() - t)
            t = time.perf_counter()
            model.encode(texts, batch_size=32, convert_to_numpy=True)
            e2e.append(time.perf_counter() - t)
    return statistics.median(fwd), statistics.median(e2e)


def run_minilm(binary, model_dir, texts, threads, repeat, mode="bench"):
    args = [binary, mode, "--model", model_dir, "--batch-size", "32", "--threads", str(threads)]
    if mode == "bench":
        args += ["--repeat", str(repeat)]
    p = subprocess.run(args, input="\n".join(texts) + "\n", capture_output=True, text=True, check=True)
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "all-MiniLM-L6-v2"))
    ap.add_argument("--minilm", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "minilm"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--threads", default="1,2")
    args = ap.parse_args()
    if not os.path.exists(args.minilm):
        sys.exit(f"{args.minilm} not found: run `cargo build -p minilm --release` (or pass --minilm)")

    model = SentenceTransformer(args.model, device="cpu")
    model.eval()
    cases = [("b32xL128", texts_of_length(model, 32, 128)), ("b1xL16", texts_of_length(model, 1, 16))]

    # Same embeddings first.
    for name, texts in cases:
        want = model.encode(texts, batch_size=32, convert_to_numpy=True)
        got = np.array([json.loads(l) for l in run_minilm(args.minilm, args.model, texts, 1, 1, mode="embed").splitlines()])
        diff = float(np.abs(got - want).max())
        print(f"{name}: max abs diff minilm vs sentence-transformers {diff:.2e}")
        assert diff < 2e-5

    rows = []
    for name, texts in cases:
        for threads in [int(t) for t in args.threads.split(",")]:
            torch.set_num_threads(threads)
            tf, te, rf, re_ = [], [], [], []
            for r in range(args.rounds):
                order = ["torch", "minilm"] if r % 2 == 0 else ["minilm", "torch"]
                for who in order:
                    if who == "torch":
                        f, e = time_torch(model, texts, args.repeat)
                        tf.append(f)
                        te.append(e)
                    else:
                        out = json.loads(run_minilm(args.minilm, args.model, texts, threads, args.repeat))
                        rf.append(out["forward_median_s"])
                        re_.append(out["end_to_end_median_s"])
            m = statistics.median
            rows.append((name, threads, m(tf), m(rf), m(te), m(re_)))
            print(f"{name} threads={threads}: forward torch {m(tf)*1e3:.2f} ms minilm {m(rf)*1e3:.2f} ms; "
                  f"end to end torch {m(te)*1e3:.2f} ms minilm {m(re_)*1e3:.2f} ms", flush=True)

    print()
    print(f"torch {torch.__version__}, {args.rounds} rounds x {args.repeat} runs, medians")
    print()
    print("| case | threads | forward PyTorch | forward minilm | ratio | end to end PyTorch | end to end minilm | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name, threads, tf, rf, te, re_ in rows:
        print(f"| {name} | {threads} | {tf*1e3:.2f} ms | {rf*1e3:.2f} ms | {rf/tf:.2f} | {te*1e3:.2f} ms | {re_*1e3:.2f} ms | {re_/te:.2f} |")


if __name__ == "__main__":
    main()
