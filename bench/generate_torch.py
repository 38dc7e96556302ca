"""Generation in PyTorch with the design of `masking bench generate`: tests/parity/hf_bart.py's BART (written
from transformers' modeling_bart.py) and its greedy and batched beam search (generate's semantics), with a
key/value cache (self-attention keys and values appended per step, cross-attention ones computed once, beams
reordered by index, as BART's _reorder_cache) or without one. Random weights (N(0, 0.02), as Masking
initialises), random sources, no forced tokens: every row runs to the maximum length. Prints the same lines.

    /usr/bin/python3 bench/generate_torch.py --preset tiny --threads 2 [--no-cache]
"""
import argparse
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "parity"))
import hf_bart  # noqa: E402

PRESETS = {
    "micro": dict(d_model=32, layers=1, heads=2, ffn=64, positions=128),
    "tiny": dict(d_model=128, layers=2, heads=4, ffn=512, positions=256),
    "small": dict(d_model=256, layers=4, heads=4, ffn=1024, positions=256),
    "bart-base": dict(d_model=768, layers=6, heads=12, ffn=3072, positions=1024),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--beam", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--source-length", type=int, default=64)
    ap.add_argument("--max-length", type=int, default=32)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-cache", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    p = PRESETS[a.preset]
    config = dict(hf_bart.CONFIG, d_model=p["d_model"], encoder_layers=p["layers"], decoder_layers=p["layers"],
                  encoder_attention_heads=p["heads"], decoder_attention_heads=p["heads"], encoder_ffn_dim=p["ffn"],
                  decoder_ffn_dim=p["ffn"], max_position_embeddings=max(p["positions"], a.source_length, a.max_length),
                  vocab_size=a.vocab)
    g = torch.Generator().manual_seed(0)
    sd = {}
    for name, t in hf_bart.state_dict(config, a.vocab, 0).items():
        is_norm = "layer_norm" in name or "layernorm_embedding" in name
        sd[name] = (torch.zeros(t.shape) if name.endswith(".bias") or name == "final_logits_bias"
                    else torch.ones(t.shape) if is_norm else torch.randn(t.shape, generator=g) * 0.02)
    model = hf_bart.Bart(sd, config)
    source = torch.cat([torch.zeros(a.batch_size, 1, dtype=torch.long),
                        torch.randint(3, a.vocab, (a.batch_size, a.source_length - 2), generator=g),
                        torch.full((a.batch_size, 1), 2, dtype=torch.long)], dim=1)
    s = dict(max_length=a.max_length, min_length=0, num_beams=a.beam, length_penalty=1.0, early_stopping=True,
             no_repeat_ngram_size=0, forced_bos=None, forced_eos=None, start=2, pad=1, eos=2)
    search = hf_bart.greedy if a.beam == 1 else hf_bart.beam
    cache = not a.no_cache
    with torch.no_grad():
        search(model, s, source, cache=cache)  # warm-up
        start, tokens = time.perf_counter(), 0
        for _ in range(a.repeats):
            tokens += sum(len(row) for row in search(model, s, source, cache=cache))
        seconds = time.perf_counter() - start
    print(f"bench generate (PyTorch {torch.__version__}): {a.preset} beam={a.beam} batch={a.batch_size} "
          f"source={a.source_length} max_length={a.max_length} cache={cache} threads={a.threads} "
          f"{seconds / a.repeats:.2f} s/batch", file=sys.stderr)
    print(f"generated_tokens_per_second={tokens / seconds:.1f}")
    print(f"peak_rss_mib={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


if __name__ == "__main__":
    main()
