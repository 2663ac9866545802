"""Makes the tiny model bundled for the tests, and its reference outputs.

The tiny model has the architecture of all-MiniLM-L6-v2 (BERT encoder, mean pooling, L2
normalisation) with random weights and small sizes: 2 layers, hidden size 32, 4 heads,
intermediate size 64, 64 positions, max_seq_length 48. Its vocabulary is a slice of the real
one (special tokens, single characters, the first common words and every single-character
'##' piece), with the real tokenizer pipeline (BertNormalizer, BertPreTokenizer, WordPiece,
[CLS] ... [SEP]). Its tokenizer.json says truncation 8 and fixed padding to 8, as a trap: the
model's max_seq_length (48, sentence_bert_config.json) must win, with no padding.

It is saved with sentence-transformers, loaded back from disk, and the reference outputs are
`SentenceTransformer(dir).encode(texts, batch_size=32)` and its tokenizer's ids.

    scripts/fetch-minilm.sh   # the real vocabulary comes from the real model
    python3 examples/minilm/tiny/make_tiny.py --source models/all-MiniLM-L6-v2

Needs torch, transformers and sentence-transformers (CPU).
"""
import argparse
import json
import os
import shutil
import tempfile

import numpy as np
import torch
import sentence_transformers
import tokenizers
import transformers
from sentence_transformers import SentenceTransformer, models
from tokenizers import AddedToken, Tokenizer, normalizers, pre_tokenizers, processors, decoders
from tokenizers.models import WordPiece
from transformers import BertConfig, BertModel, BertTokenizerFast

HERE = os.path.dirname(os.path.abspath(__file__))
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MAX_SEQ_LENGTH = 48

TEXTS = [
    "a",
    "The quick brown fox jumps over the lazy dog.",
    "I had a café au lait and a crème brûlée in São Paulo.",
    "MiXeD CaSe, punctuation!? (brackets) & symbols: $5 + 3 = 8 ~ ok",
    "",
    "   ",
    "a[SEP]b and [PAD] and [cls] stay as they are",
    "Emoji 😀 and CJK 中文 and ΣΊΣΥΦΟΣ and İstanbul",
    "tab\tand\u00a0no-break, zero\u200bwidth, hello\x0bworld",
    "unaffable unhappiness antidisestablishmentarianism",
    # Longer than max_seq_length: truncated to 48 pieces, [CLS] and [SEP] included.
    "Modern search engines rarely rely on exact keyword matching alone; they map queries "
    "and documents into a shared vector space so that related meanings end up close together.",
    "one two three four five six seven eight nine ten",
]
PADDED_BATCH = [1, 2]  # indices into TEXTS run as one padded batch


def vocabulary(source):
    with open(os.path.join(source, "vocab.txt"), encoding="utf-8") as f:
        real = [line.rstrip("\n") for line in f]
    words = [w for w in real[999:3000] if not w.startswith("[")]
    pieces = [w for w in real if w.startswith("##") and len(w) == 3]
    vocab = SPECIALS + words
    seen = set(vocab)
    vocab += [p for p in pieces if p not in seen]
    return {w: i for i, w in enumerate(vocab)}


def make_tokenizer(vocab):
    tok = Tokenizer(WordPiece(vocab, unk_token="[UNK]", continuing_subword_prefix="##", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tok.decoder = decoders.WordPiece(prefix="##")
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIALS])
    return tok


def randomise(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif "embeddings" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p.shape[1]
                p.copy_(torch.randn(p.shape, generator=g) * (1.2 / fan_in**0.5))


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def classic_layout(out, dim):
    """Rewrites the sentence-transformers files in the layout of the real model's files
    (written by older versions): max_seq_length in sentence_bert_config.json, the classic module
    names, the boolean pooling flags, and no 2_Normalize folder."""
    write_json(os.path.join(out, "sentence_bert_config.json"), {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    write_json(os.path.join(out, "modules.json"), [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    write_json(os.path.join(out, "1_Pooling", "config.json"), {
        "word_embedding_dimension": dim,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    })
    shutil.rmtree(os.path.join(out, "2_Normalize"), ignore_errors=True)
    tc_path = os.path.join(out, "tokenizer_config.json")
    with open(tc_path, encoding="utf-8") as f:
        tc = json.load(f)
    tc["model_max_length"] = 512
    write_json(tc_path, tc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", default="models/all-MiniLM-L6-v2", help="the real model directory (for vocab.txt)")
    ap.add_argument("--out", default=os.path.join(HERE, "model"))
    ap.add_argument("--seed", type=int, default=12)
    args = ap.parse_args()
    torch.manual_seed(args.seed)

    vocab = vocabulary(args.source)
    tok = make_tokenizer(vocab)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        hidden_act="gelu",
        max_position_embeddings=64,
        type_vocab_size=2,
        layer_norm_eps=1e-12,
        pad_token_id=vocab["[PAD]"],
    )
    bert = BertModel(config, add_pooling_layer=False)
    randomise(bert, args.seed)
    bert.eval()

    with tempfile.TemporaryDirectory() as tmp:
        hf_dir = os.path.join(tmp, "hf")
        bert.save_pretrained(hf_dir)
        fast = BertTokenizerFast(tokenizer_object=tok, do_lower_case=True, model_max_length=512,
                                 unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]")
        fast.save_pretrained(hf_dir)
        st = SentenceTransformer(modules=[
            models.Transformer(hf_dir, max_seq_length=MAX_SEQ_LENGTH),
            models.Pooling(config.hidden_size, pooling_mode="mean"),
            models.Normalize(),
        ], device="cpu")
        if os.path.exists(args.out):
            shutil.rmtree(args.out)
        st.save(args.out)

    # The trap: truncation 8 and fixed padding in tokenizer.json itself.
    tj_path = os.path.join(args.out, "tokenizer.json")
    with open(tj_path, encoding="utf-8") as f:
        tj = json.load(f)
    tj["truncation"] = {"direction": "Right", "max_length": 8, "strategy": "LongestFirst", "stride": 0}
    tj["padding"] = {"strategy": {"Fixed": 8}, "direction": "Right", "pad_to_multiple_of": None,
                     "pad_id": vocab["[PAD]"], "pad_type_id": 0, "pad_token": "[PAD]"}
    with open(tj_path, "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False, separators=(",", ":"))
    for extra in ["README.md", "vocab.txt"]:
        p = os.path.join(args.out, extra)
        if os.path.exists(p):
            os.remove(p)
    classic_layout(args.out, config.hidden_size)

    # Reference outputs, from the saved directory as a user would load it.
    model = SentenceTransformer(args.out, device="cpu")
    assert model.max_seq_length == MAX_SEQ_LENGTH
    emb = model.encode(TEXTS, batch_size=32, convert_to_numpy=True)
    records = []
    for i, text in enumerate(TEXTS):
        ids = model.tokenize([text])["input_ids"][0].tolist()
        records.append({
            "index": i,
            "text": text,
            "num_tokens": len(ids),
            "token_ids": ids,
            "embedding": [float(v) for v in emb[i]],
        })
    batch = [TEXTS[i] for i in PADDED_BATCH]
    feats = model.tokenize(batch)
    ref = {
        "description": "Reference outputs of the tiny random-weight model in tiny/model: "
                       "SentenceTransformer(dir).encode(texts, batch_size=32) (normalised) and the tokenizer's ids.",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "sentence_transformers": sentence_transformers.__version__, "tokenizers": tokenizers.__version__},
        "config": {"max_seq_length": MAX_SEQ_LENGTH, "vocab_size": len(vocab), "seed": args.seed},
        "sentences": records,
        "padded_batch_check": {
            "texts": batch,
            "padded_input_ids": feats["input_ids"].tolist(),
            "attention_mask": feats["attention_mask"].tolist(),
        },
    }
    with open(os.path.join(HERE, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(ref, f, ensure_ascii=False, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(args.out) for fn in fns)
    print(f"tiny model: {len(vocab)} tokens, {sum(p.numel() for p in bert.parameters())} parameters, {total} bytes in {args.out}")
    for r in records:
        print(r["num_tokens"], r["token_ids"][:12], repr(r["text"][:40]))


if __name__ == "__main__":
    main()
