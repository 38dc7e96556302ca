"""The Masking model written independently in PyTorch: the reference for the parity test and the
PyTorch side of bench/compare-train.sh.

    /usr/bin/python3 tests/parity/bart_reference.py CHECKPOINT BATCH.json OUT.json

reads a Masking checkpoint (safetensors, as Masking writes it) and a
batch (source, decoder_input, target as lists of lists), runs the forward pass without dropout, and writes
the logits and the label-smoothed loss.
"""
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F


def read_checkpoint(path):
    """A safetensors file (an 8-byte little-endian header length, the JSON header with dtype, shape and
    data_offsets per tensor and __metadata__, then the data), read with struct and numpy only."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        start = 8 + length
        tensors = {}
        for name, e in header.items():
            if name == "__metadata__":
                continue
            if e["dtype"] != "F32":
                raise ValueError(f"{path}: tensor {name} is {e['dtype']}, expected F32")
            begin, end = e["data_offsets"]
            f.seek(start + begin)
            data = np.frombuffer(f.read(end - begin), dtype="<f4").copy()
            tensors[name] = torch.from_numpy(data.reshape(e["shape"]))
    return tensors, header.get("__metadata__", {})


class Reference:
    """BART: learned positions (offset 2), layernorm_embedding, post-norm (or pre-norm), GELU, tied output."""

    def __init__(self, params, config, training=False):
        self.p = params
        self.c = config
        self.min = torch.finfo(torch.float32).min
        self.rate = config["Dropout"] if training else 0.0

    def dropout(self, x):
        return F.dropout(x, self.rate, True) if self.rate > 0 else x

    def linear(self, name, x):
        return F.linear(x, self.p[name + ".weight"], self.p[name + ".bias"])

    def norm(self, name, x):
        w = self.p[name + ".weight"]
        return F.layer_norm(x, (w.shape[0],), w, self.p[name + ".bias"], 1e-5)

    def attention(self, name, query, kv, mask):
        b, tq, d = query.shape
        tk = kv.shape[1]
        h = self.c["Heads"]
        hd = d // h
        q = (self.linear(name + ".q_proj", query) * hd ** -0.5).view(b, tq, h, hd).transpose(1, 2)
        k = self.linear(name + ".k_proj", kv).view(b, tk, h, hd).transpose(1, 2)
        v = self.linear(name + ".v_proj", kv).view(b, tk, h, hd).transpose(1, 2)
        probs = torch.softmax(q @ k.transpose(-2, -1) + mask, dim=-1)
        return self.linear(name + ".out_proj", (probs @ v).transpose(1, 2).reshape(b, tq, d))

    def padding(self, ids):
        return torch.zeros(ids.shape, dtype=torch.float32).masked_fill(ids == self.c["PadId"], self.min)[:, None, None, :]

    def residual(self, norm_name, f, x):
        if self.c["PreNorm"]:
            return x + self.dropout(f(self.norm(norm_name, x)))
        return self.norm(norm_name, x + self.dropout(f(x)))

    def embed(self, stack, ids):
        t = ids.shape[1]
        x = self.p["model.shared.weight"][ids]
        if self.c["ScaleEmbedding"]:
            x = x * math.sqrt(self.c["DModel"])
        x = x + self.p[f"model.{stack}.embed_positions.weight"][torch.arange(2, t + 2)]
        return self.dropout(self.norm(f"model.{stack}.layernorm_embedding", x))

    def ffn(self, layer, x):
        return self.linear(layer + ".fc2", F.gelu(self.linear(layer + ".fc1", x)))

    def forward(self, source, decoder_input):
        mask = self.padding(source)
        x = self.embed("encoder", source)
        for i in range(self.c["EncoderLayers"]):
            l = f"model.encoder.layers.{i}"
            x = self.residual(l + ".self_attn_layer_norm", lambda h: self.attention(l + ".self_attn", h, h, mask), x)
            x = self.residual(l + ".final_layer_norm", lambda h: self.ffn(l, h), x)
        if self.c["PreNorm"]:
            x = self.norm("model.encoder.layer_norm", x)
        encoded = x
        t = decoder_input.shape[1]
        causal = torch.triu(torch.full((t, t), self.min), diagonal=1)[None, None]
        self_mask = causal + self.padding(decoder_input)
        y = self.embed("decoder", decoder_input)
        for i in range(self.c["DecoderLayers"]):
            l = f"model.decoder.layers.{i}"
            y = self.residual(l + ".self_attn_layer_norm", lambda h: self.attention(l + ".self_attn", h, h, self_mask), y)
            y = self.residual(l + ".encoder_attn_layer_norm", lambda h: self.attention(l + ".encoder_attn", h, encoded, mask), y)
            y = self.residual(l + ".final_layer_norm", lambda h: self.ffn(l, h), y)
        if self.c["PreNorm"]:
            y = self.norm("model.decoder.layer_norm", y)
        return F.linear(y, self.p["model.shared.weight"]) + self.p["final_logits_bias"]


def label_smoothed_loss(logits, target, pad, epsilon):
    lprobs = torch.log_softmax(logits, dim=-1)
    nll = -lprobs.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    smooth = -lprobs.sum(-1)
    keep = target != pad
    per_token = (1 - epsilon) * nll + (epsilon / logits.shape[-1]) * smooth
    return per_token.masked_fill(~keep, 0.0).sum() / keep.sum().clamp_min(1)


def main(checkpoint, batch_path, out_path):
    tensors, meta = read_checkpoint(checkpoint)
    config = json.loads(meta["model_config"])
    params = {k[len("param/"):]: v for k, v in tensors.items() if k.startswith("param/")}
    batch = json.load(open(batch_path))
    source = torch.tensor(batch["source"], dtype=torch.int64)
    decoder_input = torch.tensor(batch["decoder_input"], dtype=torch.int64)
    target = torch.tensor(batch["target"], dtype=torch.int64)
    with torch.no_grad():
        logits = Reference(params, config).forward(source, decoder_input)
        loss = label_smoothed_loss(logits, target, config["PadId"], batch["label_smoothing"])
    json.dump({"logits": logits.flatten().tolist(), "shape": list(logits.shape), "loss": loss.item(),
               "torch": torch.__version__}, open(out_path, "w"))


if __name__ == "__main__":
    main(*sys.argv[1:4])
