"""The training step of `masking bench train`, in PyTorch: the same model (tests/parity/bart_reference.py),
the same shapes, dropout, label-smoothed loss, gradient clipping and AdamW. Prints the same lines.

    /usr/bin/python3 bench/train_step_torch.py --threads 2 [--peak]

Needs Debian's python3-torch with libopenblas0-openmp (without OpenBLAS its matmul is 30x slower).
"""
import argparse
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "parity"))
from bart_reference import Reference, label_smoothed_loss  # noqa: E402

PRESETS = {
    "micro": dict(DModel=32, EncoderLayers=1, DecoderLayers=1, Heads=2, FfnDim=64),
    "tiny": dict(DModel=128, EncoderLayers=2, DecoderLayers=2, Heads=4, FfnDim=512),
    "small": dict(DModel=256, EncoderLayers=4, DecoderLayers=4, Heads=4, FfnDim=1024),
    "bart-base": dict(DModel=768, EncoderLayers=6, DecoderLayers=6, Heads=12, FfnDim=3072),
}
# The positions each preset has in Masking (ModelConfig.forVocabulary: at least the preset's).
POSITIONS = {"micro": 128, "tiny": 256, "small": 256, "bart-base": 1024}


def shapes(c):
    d, f, v = c["DModel"], c["FfnDim"], c["VocabSize"]
    out = [("model.shared.weight", (v, d))]
    for stack, layers, cross in (("encoder", c["EncoderLayers"], False), ("decoder", c["DecoderLayers"], True)):
        out.append((f"model.{stack}.embed_positions.weight", (c["MaxPositions"] + 2, d)))
        out += [(f"model.{stack}.layernorm_embedding.weight", (d,)), (f"model.{stack}.layernorm_embedding.bias", (d,))]
        for i in range(layers):
            l = f"model.{stack}.layers.{i}"
            for att in ["self_attn"] + (["encoder_attn"] if cross else []):
                for p in ("q_proj", "k_proj", "v_proj", "out_proj"):
                    out += [(f"{l}.{att}.{p}.weight", (d, d)), (f"{l}.{att}.{p}.bias", (d,))]
                out += [(f"{l}.{att}_layer_norm.weight", (d,)), (f"{l}.{att}_layer_norm.bias", (d,))]
            out += [(f"{l}.fc1.weight", (f, d)), (f"{l}.fc1.bias", (f,)), (f"{l}.fc2.weight", (d, f)), (f"{l}.fc2.bias", (d,))]
            out += [(f"{l}.final_layer_norm.weight", (d,)), (f"{l}.final_layer_norm.bias", (d,))]
    out.append(("final_logits_bias", (1, v)))
    return out


def training_flops(c, b, s, t):
    d, f, v = c["DModel"], c["FfnDim"], c["VocabSize"]
    enc, dec = b * s, b * t
    encoder = c["EncoderLayers"] * (enc * (4 * d * d + 2 * d * f) + enc * 2 * s * d)
    decoder = c["DecoderLayers"] * (dec * (4 * d * d + 2 * d * f) + dec * 2 * t * d + dec * 2 * d * d + enc * 2 * d * d + dec * 2 * s * d)
    return 3 * 2 * (encoder + decoder + dec * d * v)


def matmul_peak():
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    for _ in range(3):
        a @ b
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < 2:
        a @ b
        n += 1
    return 2 * 1024 ** 3 * n / (time.perf_counter() - start) / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--source-length", type=int, default=64)
    ap.add_argument("--target-length", type=int, default=64)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--peak", action="store_true")
    ap.add_argument("--warmup-steps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c = dict(PRESETS[a.preset], VocabSize=a.vocab, MaxPositions=max(POSITIONS[a.preset], a.source_length, a.target_length), Dropout=0.1,
             PreNorm=False, ScaleEmbedding=False, PadId=1)
    params = {}
    for name, shape in shapes(c):
        if name.endswith(".bias") or name == "final_logits_bias":
            t = torch.zeros(shape)
        elif "layer_norm" in name or "layernorm_embedding" in name:
            t = torch.ones(shape)
        else:
            t = torch.randn(shape) * 0.02
        params[name] = t.requires_grad_(True)
    decay = [p for n, p in params.items() if not (n.endswith(".bias") or "layer_norm" in n or "layernorm" in n or n == "final_logits_bias")]
    no_decay = [p for n, p in params.items() if not any(p is q for q in decay)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-4)
    model = Reference(params, c, training=True)
    source = torch.randint(3, a.vocab, (a.batch_size, a.source_length))
    target = torch.randint(3, a.vocab, (a.batch_size, a.target_length))
    decoder_input = torch.cat([torch.full((a.batch_size, 1), 2), target[:, :-1]], dim=1)

    def step():
        loss = label_smoothed_loss(model.forward(source, decoder_input), target, 1, 0.1)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)

    for _ in range(a.warmup_steps):
        step()
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < a.seconds or steps == 0:
        step()
        steps += 1
    per_step = (time.perf_counter() - start) / steps
    print(f"bench train (PyTorch {torch.__version__}): {a.preset} threads={a.threads} steps={steps} {per_step * 1000:.1f} ms/step", file=sys.stderr)
    print(f"achieved_gflops={training_flops(c, a.batch_size, a.source_length, a.target_length) / per_step / 1e9:.1f}")
    if a.peak:
        print(f"matmul_peak_gflops={matmul_peak():.1f}")
    print(f"target_tokens_per_second={a.batch_size * a.target_length / per_step:.1f}")
    print(f"peak_rss_mib={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


if __name__ == "__main__":
    main()
