"""Hugging Face BART, written independently in PyTorch from transformers' code, for the parity test of
Masking's Hugging Face path (no transformers package is needed or used).

    /usr/bin/python3 tests/parity/hf_bart.py make DIR SEED [POSITIONS]
        writes a Hugging Face BART directory with random weights: config.json (BartConfig keys),
        model.safetensors (with {"format": "pt"} metadata), pytorch_model.bin (torch.save of the state dict,
        tied copies included), vocab.json + merges.txt (a small byte-level BPE), tokenizer configs and
        generation_config.json. Every layer norm and bias is perturbed, so a tensor read wrongly shows.

    /usr/bin/python3 tests/parity/hf_bart.py run DIR CASES.json OUT.json
        reads pytorch_model.bin (or model.safetensors) and config.json; for each case (source ids, label ids) writes the logits of
        the labels shifted right, the mean cross-entropy over the labels, and the greedy and beam-search ids
        of Hugging Face's generate (settings from CASES.json).

    /usr/bin/python3 tests/parity/hf_bart.py encode DIR TEXTS.json OUT.json
        the token ids of each text with DIR's vocab.json + merges.txt (GPT-2's BPE, written here again).

The model follows transformers/models/bart/modeling_bart.py: BartLearnedPositionalEmbedding (offset 2),
layernorm_embedding, post-norm BartEncoderLayer/BartDecoderLayer, BartAttention (q scaled by head_dim**-0.5),
shared embeddings tied to lm_head plus final_logits_bias, shift_tokens_right. Generation follows
transformers/generation/utils.py (greedy: processors on the raw logits, argmax, pad after </s>; beam search:
log_softmax, processors, BeamSearchScorer.process and finalize) and generation/beam_search.py's
BeamHypotheses (score = sum_logprobs / generated_len ** length_penalty; is_done), with the processors of
generation/logits_process.py: NoRepeatNGramLogitsProcessor, MinLengthLogitsProcessor,
ForcedBOSTokenLogitsProcessor, ForcedEOSTokenLogitsProcessor.
"""
import json
import math
import os
import re
import struct
import sys

import torch
import torch.nn.functional as F

NEG_INF = -float("inf")


# ---- a Hugging Face directory with random weights ------------------------------------------------------

def bytes_to_unicode():
    """GPT-2's map from bytes to printable characters (openai/gpt-2 encoder.py)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("Ġ", "a"), ("i", "n"), ("o", "n"), ("Ġ", "s"), ("e", "r"),
          ("Ġ", "w"), ("a", "n"), ("Ġ", "c"), ("o", "r"), ("e", "n"), ("Ġ", "b"), ("Ġ", "L"), ("o", "n")]


def vocabulary():
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for ch in bytes_to_unicode().values():
        vocab.setdefault(ch, len(vocab))
    merges = []
    for a, b in MERGES:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
            merges.append((a, b))
    vocab["<mask>"] = len(vocab)
    return vocab, merges


CONFIG = {
    "model_type": "bart", "architectures": ["BartForConditionalGeneration"], "d_model": 32,
    "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 4, "decoder_attention_heads": 4,
    "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "max_position_embeddings": 64, "activation_function": "gelu",
    "scale_embedding": False, "dropout": 0.1, "attention_dropout": 0.0, "activation_dropout": 0.0,
    "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "decoder_start_token_id": 2,
    "forced_bos_token_id": 0, "forced_eos_token_id": 2, "tie_word_embeddings": True, "is_encoder_decoder": True,
    "num_beams": 4, "early_stopping": True, "no_repeat_ngram_size": 3, "max_length": 20,
}


def state_dict(config, vocab_size, seed):
    g = torch.Generator().manual_seed(seed)
    d, ffn = config["d_model"], config["encoder_ffn_dim"]

    def randn(*shape, std=0.2):
        return torch.randn(*shape, generator=g) * std

    sd = {"model.shared.weight": randn(vocab_size, d, std=0.5)}
    for stack, layers, cross in (("encoder", config["encoder_layers"], False), ("decoder", config["decoder_layers"], True)):
        sd[f"model.{stack}.embed_positions.weight"] = randn(config["max_position_embeddings"] + 2, d)
        sd[f"model.{stack}.layernorm_embedding.weight"] = 1 + randn(d, std=0.1)
        sd[f"model.{stack}.layernorm_embedding.bias"] = randn(d, std=0.1)
        for i in range(layers):
            l = f"model.{stack}.layers.{i}"
            for att in ["self_attn"] + (["encoder_attn"] if cross else []):
                for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
                    sd[f"{l}.{att}.{proj}.weight"] = randn(d, d)
                    sd[f"{l}.{att}.{proj}.bias"] = randn(d, std=0.1)
                sd[f"{l}.{att}_layer_norm.weight"] = 1 + randn(d, std=0.1)
                sd[f"{l}.{att}_layer_norm.bias"] = randn(d, std=0.1)
            sd[f"{l}.fc1.weight"], sd[f"{l}.fc1.bias"] = randn(ffn, d), randn(ffn, std=0.1)
            sd[f"{l}.fc2.weight"], sd[f"{l}.fc2.bias"] = randn(d, ffn), randn(d, std=0.1)
            sd[f"{l}.final_layer_norm.weight"] = 1 + randn(d, std=0.1)
            sd[f"{l}.final_layer_norm.bias"] = randn(d, std=0.1)
    sd["final_logits_bias"] = randn(1, vocab_size, std=0.1)
    return sd


def write_safetensors(path, tensors):
    """The safetensors format by hand: an 8-byte little-endian header length, the JSON header (dtype, shape,
    data_offsets per tensor; __metadata__), then the raw little-endian data."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        data = tensors[name].contiguous().to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for b in blobs:
            f.write(b)


def make(directory, seed, positions=None):
    os.makedirs(directory, exist_ok=True)
    vocab, merges = vocabulary()
    config = dict(CONFIG, vocab_size=len(vocab))
    if positions is not None:
        config["max_position_embeddings"] = int(positions)
    sd = state_dict(config, len(vocab), int(seed))
    json.dump(config, open(os.path.join(directory, "config.json"), "w"), indent=2)
    json.dump(vocab, open(os.path.join(directory, "vocab.json"), "w"), ensure_ascii=False)
    with open(os.path.join(directory, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")
    json.dump({"model_max_length": config["max_position_embeddings"], "tokenizer_class": "BartTokenizer"},
              open(os.path.join(directory, "tokenizer_config.json"), "w"))
    json.dump({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
               "mask_token": {"content": "<mask>", "lstrip": True, "single_word": False}},
              open(os.path.join(directory, "special_tokens_map.json"), "w"))
    json.dump({"decoder_start_token_id": 2, "forced_bos_token_id": 0, "forced_eos_token_id": 2, "num_beams": 4,
               "no_repeat_ngram_size": 3, "early_stopping": True, "max_length": 20},
              open(os.path.join(directory, "generation_config.json"), "w"))
    write_safetensors(os.path.join(directory, "model.safetensors"), sd)
    # save_pretrained's PyTorch file carries the tied copies too.
    full = dict(sd)
    for copy in ("model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight"):
        full[copy] = sd["model.shared.weight"]
    torch.save(full, os.path.join(directory, "pytorch_model.bin"))


# ---- the model -------------------------------------------------------------------------------------------

class Bart:
    """BartForConditionalGeneration in eval mode (no dropout)."""

    def __init__(self, sd, config):
        self.p, self.c = sd, config
        self.min = torch.finfo(torch.float32).min

    def linear(self, name, x):
        return F.linear(x, self.p[name + ".weight"], self.p[name + ".bias"])

    def norm(self, name, x):
        return F.layer_norm(x, (x.shape[-1],), self.p[name + ".weight"], self.p[name + ".bias"], 1e-5)

    def keys_values(self, name, heads, kv):
        b, _, d = kv.shape
        k = self.linear(name + ".k_proj", kv).view(b, -1, heads, d // heads).transpose(1, 2)
        v = self.linear(name + ".v_proj", kv).view(b, -1, heads, d // heads).transpose(1, 2)
        return k, v

    def attend(self, name, heads, hidden, k, v, mask):
        b, tq, d = hidden.shape
        hd = d // heads
        q = (self.linear(name + ".q_proj", hidden) * hd ** -0.5).view(b, tq, heads, hd).transpose(1, 2)
        w = torch.softmax(q @ k.transpose(-2, -1) + mask, dim=-1)
        return self.linear(name + ".out_proj", (w @ v).transpose(1, 2).reshape(b, tq, d))

    def attention(self, name, heads, hidden, kv, mask):
        return self.attend(name, heads, hidden, *self.keys_values(name, heads, kv), mask)

    def embed(self, stack, ids, start=0):
        x = self.p["model.shared.weight"][ids] * (math.sqrt(self.c["d_model"]) if self.c["scale_embedding"] else 1.0)
        x = x + self.p[f"model.{stack}.embed_positions.weight"][torch.arange(start, start + ids.shape[1]) + 2]
        return self.norm(f"model.{stack}.layernorm_embedding", x)

    def ffn(self, l, x):
        return self.linear(l + ".fc2", F.gelu(self.linear(l + ".fc1", x)))

    def key_mask(self, ids):
        # _prepare_4d_attention_mask from the tokenizer's attention mask (1 where not padding).
        return torch.zeros(ids.shape).masked_fill(ids == self.c["pad_token_id"], self.min)[:, None, None, :]

    def encode(self, source):
        mask, x = self.key_mask(source), self.embed("encoder", source)
        for i in range(self.c["encoder_layers"]):
            l = f"model.encoder.layers.{i}"
            x = self.norm(l + ".self_attn_layer_norm", x + self.attention(l + ".self_attn", self.c["encoder_attention_heads"], x, x, mask))
            x = self.norm(l + ".final_layer_norm", x + self.ffn(l, x))
        return x

    def decode(self, encoded, source, decoder_input):
        t = decoder_input.shape[1]
        causal = torch.triu(torch.full((t, t), self.min), diagonal=1)[None, None]
        cross, y = self.key_mask(source), self.embed("decoder", decoder_input)
        h = self.c["decoder_attention_heads"]
        for i in range(self.c["decoder_layers"]):
            l = f"model.decoder.layers.{i}"
            y = self.norm(l + ".self_attn_layer_norm", y + self.attention(l + ".self_attn", h, y, y, causal))
            y = self.norm(l + ".encoder_attn_layer_norm", y + self.attention(l + ".encoder_attn", h, y, encoded, cross))
            y = self.norm(l + ".final_layer_norm", y + self.ffn(l, y))
        return F.linear(y, self.p["model.shared.weight"]) + self.p["final_logits_bias"]

    # The cache of BartDecoder's past_key_values: per layer, the self-attention keys and values so far
    # (appended at each step) and the cross-attention ones (computed once from the encoder output).
    def cache_start(self, encoded, source):
        h = self.c["decoder_attention_heads"]
        cross = [self.keys_values(f"model.decoder.layers.{i}.encoder_attn", h, encoded) for i in range(self.c["decoder_layers"])]
        return {"cross": cross, "self": [None] * self.c["decoder_layers"], "mask": self.key_mask(source), "length": 0}

    def cache_step(self, cache, tokens):
        """The logits of the next token after `tokens` ([rows, 1]), given every earlier one in the cache."""
        y, h = self.embed("decoder", tokens, cache["length"]), self.c["decoder_attention_heads"]
        no_mask = torch.zeros(1)
        for i in range(self.c["decoder_layers"]):
            l = f"model.decoder.layers.{i}"
            k, v = self.keys_values(l + ".self_attn", h, y)
            if cache["self"][i] is not None:
                k, v = torch.cat([cache["self"][i][0], k], dim=2), torch.cat([cache["self"][i][1], v], dim=2)
            cache["self"][i] = (k, v)
            y = self.norm(l + ".self_attn_layer_norm", y + self.attend(l + ".self_attn", h, y, k, v, no_mask))
            ck, cv = cache["cross"][i]
            y = self.norm(l + ".encoder_attn_layer_norm", y + self.attend(l + ".encoder_attn", h, y, ck, cv, cache["mask"]))
            y = self.norm(l + ".final_layer_norm", y + self.ffn(l, y))
        cache["length"] += 1
        return (F.linear(y, self.p["model.shared.weight"]) + self.p["final_logits_bias"])[:, -1, :]

    @staticmethod
    def cache_reorder(cache, index):
        """BartForConditionalGeneration._reorder_cache: the self-attention keys and values follow the beams."""
        cache["self"] = [(k.index_select(0, index), v.index_select(0, index)) for k, v in cache["self"]]


def next_logits(model, encoded, source, ids, cache):
    """The last position's logits: one cached step, or the decoder over the whole prefix."""
    return model.cache_step(cache, ids[:, -1:]) if cache is not None else model.decode(encoded, source, ids)[:, -1, :]


def shift_tokens_right(labels, pad, start):
    shifted = labels.new_zeros(labels.shape)
    shifted[:, 1:] = labels[:, :-1].clone()
    shifted[:, 0] = start
    return shifted.masked_fill(shifted == -100, pad)


# ---- generation ------------------------------------------------------------------------------------------

def process(s, input_ids, scores):
    """The logits processors in generate's order, on [hypotheses, vocab] scores."""
    cur_len = input_ids.shape[-1]
    n = s["no_repeat_ngram_size"]
    if n > 0 and cur_len + 1 >= n:
        for h in range(input_ids.shape[0]):
            tokens = input_ids[h].tolist()
            banned = {}
            for ngram in zip(*[tokens[i:] for i in range(n)]):
                banned.setdefault(tuple(ngram[:-1]), []).append(ngram[-1])
            for t in banned.get(tuple(tokens[cur_len + 1 - n:cur_len]), []):
                scores[h, t] = NEG_INF
    if cur_len < s["min_length"]:
        scores[:, s["eos"]] = NEG_INF
    if s["forced_bos"] is not None and cur_len == 1:
        scores[:, :] = NEG_INF
        scores[:, s["forced_bos"]] = 0
    if s["forced_eos"] is not None and cur_len == s["max_length"] - 1:
        scores[:, :] = NEG_INF
        scores[:, s["forced_eos"]] = 0
    return scores


def greedy(model, s, source, cache=False):
    encoded = model.encode(source)
    cache = model.cache_start(encoded, source) if cache else None
    ids = torch.full((source.shape[0], 1), s["start"], dtype=torch.long)
    unfinished = torch.ones(source.shape[0], dtype=torch.long)
    while ids.shape[-1] < s["max_length"]:
        scores = process(s, ids, next_logits(model, encoded, source, ids, cache).clone())
        next_tokens = torch.argmax(scores, dim=-1)
        next_tokens = next_tokens * unfinished + s["pad"] * (1 - unfinished)
        ids = torch.cat([ids, next_tokens[:, None]], dim=-1)
        unfinished = unfinished & (next_tokens != s["eos"]).long()
        if unfinished.max() == 0:
            break
    return [alone(row[1:].tolist(), s) for row in ids]


def alone(generated, s):
    """What generate returns for a row alone: up to and including the first </s>."""
    return generated[:generated.index(s["eos"]) + 1] if s["eos"] in generated else generated


class Hypotheses:
    def __init__(self, k, length_penalty, early_stopping):
        self.k, self.lp, self.early, self.beams, self.worst = k, length_penalty, early_stopping, [], 1e9

    def add(self, hyp, sum_logprobs, generated_len):
        score = sum_logprobs / (generated_len ** self.lp)
        if len(self.beams) < self.k or score > self.worst:
            self.beams.append((score, hyp))
            if len(self.beams) > self.k:
                ranked = sorted([(sc, i) for i, (sc, _) in enumerate(self.beams)])
                del self.beams[ranked[0][1]]
                self.worst = ranked[1][0]
            else:
                self.worst = min(score, self.worst)

    def is_done(self, best_sum_logprobs, cur_len):
        if len(self.beams) < self.k:
            return False
        if self.early:
            return True
        return self.worst >= best_sum_logprobs / (cur_len - 1) ** self.lp


def beam(model, s, source, cache=False):
    k, n = s["num_beams"], source.shape[0]
    src = source.repeat_interleave(k, dim=0)
    encoded = model.encode(src)
    cache = model.cache_start(encoded, src) if cache else None
    ids = torch.full((n * k, 1), s["start"], dtype=torch.long)
    beam_scores = torch.zeros((n, k), dtype=torch.float)
    beam_scores[:, 1:] = -1e9
    beam_scores = beam_scores.view(-1)
    hyps = [Hypotheses(k, s["length_penalty"], s["early_stopping"]) for _ in range(n)]
    done = [False] * n
    while ids.shape[-1] < s["max_length"]:
        logp = torch.log_softmax(next_logits(model, encoded, src, ids, cache), dim=-1)
        scores = process(s, ids, logp.clone()) + beam_scores[:, None]
        vocab = scores.shape[-1]
        top_scores, top = torch.topk(scores.view(n, k * vocab), 2 * k, dim=1, largest=True, sorted=True)
        next_scores = torch.zeros((n, k))
        next_tokens = torch.zeros((n, k), dtype=torch.long)
        next_indices = torch.zeros((n, k), dtype=torch.long)
        cur_len = ids.shape[-1] + 1
        for b in range(n):
            if done[b]:
                next_tokens[b, :] = s["pad"]
                continue
            filled = 0
            for rank, (score, flat) in enumerate(zip(top_scores[b], top[b])):
                j, token = int(flat) // vocab, int(flat) % vocab
                if token == s["eos"]:
                    if rank >= k:
                        continue
                    hyps[b].add(ids[b * k + j].tolist(), score.item(), cur_len - 1)
                else:
                    next_scores[b, filled], next_tokens[b, filled], next_indices[b, filled] = score, token, b * k + j
                    filled += 1
                if filled == k:
                    break
            done[b] = done[b] or hyps[b].is_done(top_scores[b].max().item(), cur_len)
        beam_scores = next_scores.view(-1)
        ids = torch.cat([ids[next_indices.view(-1)], next_tokens.view(-1, 1)], dim=-1)
        if cache is not None:
            model.cache_reorder(cache, next_indices.view(-1))
        if all(done):
            break
    for b in range(n):
        if not done[b]:
            for j in range(k):
                hyps[b].add(ids[b * k + j].tolist(), beam_scores[b * k + j].item(), ids.shape[-1] - 1)
    out = []
    for h in hyps:
        best = sorted(h.beams, key=lambda x: x[0])[-1][1]
        out.append(best[1:] + ([s["eos"]] if len(best) < s["max_length"] else []))
    return out


def read_safetensors(path):
    """The safetensors format by hand (see write_safetensors); F32 tensors only."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", f"{path}: {name} is {e['dtype']}"
        begin, end = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(e["shape"])
    return out


def read_weights(directory):
    """pytorch_model.bin when the directory has one, else model.safetensors; the tied copies of the embedding
    come from model.shared.weight, as tie_word_embeddings makes them."""
    bin_path = os.path.join(directory, "pytorch_model.bin")
    sd = torch.load(bin_path) if os.path.exists(bin_path) else read_safetensors(os.path.join(directory, "model.safetensors"))
    return {k: v.float() for k, v in sd.items()}


# ---- the tokenizer ---------------------------------------------------------------------------------------

# GPT-2's pre-tokenizer pattern with the standard library's re: \p{L} is [^\W\d_] and \p{N} is \d, which agree
# on the texts the tests use (the regex package is not needed).
PRETOKEN = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")


def bpe(word, ranks):
    """GPT-2's BPE (openai/gpt-2 encoder.py `bpe`): merge the lowest-ranked adjacent pair, every occurrence
    left to right, until no pair has a rank."""
    parts = list(word)
    while len(parts) > 1:
        pairs = [(ranks.get((parts[i], parts[i + 1]), None), i) for i in range(len(parts) - 1)]
        ranked = [r for r, _ in pairs if r is not None]
        if not ranked:
            break
        best = min(ranked)
        first, second = next((parts[i], parts[i + 1]) for r, i in pairs if r == best)
        merged, i = [], 0
        while i < len(parts):
            if i < len(parts) - 1 and parts[i] == first and parts[i + 1] == second:
                merged.append(first + second)
                i += 2
            else:
                merged.append(parts[i])
                i += 1
        parts = merged
    return parts


def encode(directory, texts_path, out_path):
    """Token ids of each text with the directory's vocab.json + merges.txt, as Hugging Face's slow
    BartTokenizer computes them without special tokens (texts must not spell added tokens)."""
    vocab = json.load(open(os.path.join(directory, "vocab.json"), encoding="utf-8"))
    lines = open(os.path.join(directory, "merges.txt"), encoding="utf-8").read().split("\n")
    merges = [tuple(l.split(" ")) for l in lines[1:] if l]
    ranks = {m: i for i, m in enumerate(merges)}
    table = bytes_to_unicode()
    out = []
    for text in json.load(open(texts_path, encoding="utf-8")):
        ids = []
        for piece in PRETOKEN.findall(text):
            word = "".join(table[b] for b in piece.encode("utf-8"))
            ids.extend(vocab[t] for t in bpe(word, ranks))
        out.append(ids)
    json.dump(out, open(out_path, "w"))


def run(directory, cases_path, out_path):
    config = json.load(open(os.path.join(directory, "config.json")))
    sd = read_weights(directory)
    model = Bart(sd, config)
    cases = json.load(open(cases_path))
    s = dict(cases["settings"], start=config["decoder_start_token_id"], pad=config["pad_token_id"], eos=config["eos_token_id"])
    pad = config["pad_token_id"]
    sources = cases["sources"]
    width = max(map(len, sources))
    batch = torch.tensor([x + [pad] * (width - len(x)) for x in sources], dtype=torch.long)
    out = {"torch": torch.__version__, "cases": []}
    with torch.no_grad():
        for source, labels in zip(sources, cases["labels"]):
            src, lab = torch.tensor([source]), torch.tensor([labels])
            logits = model.decode(model.encode(src), src, shift_tokens_right(lab, pad, config["decoder_start_token_id"]))
            loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), lab.view(-1))
            out["cases"].append({"logits": logits.flatten().tolist(), "loss": loss.item()})
        out["greedy"] = greedy(model, dict(s, num_beams=1), batch)
        out["beam"] = beam(model, s, batch)
        # The same search with the key/value cache must give the same ids.
        out["greedy_cached"] = greedy(model, dict(s, num_beams=1), batch, cache=True)
        out["beam_cached"] = beam(model, s, batch, cache=True)
    json.dump(out, open(out_path, "w"))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(*sys.argv[2:5])
    elif sys.argv[1] == "encode":
        encode(*sys.argv[2:5])
    elif sys.argv[1] == "run":
        run(*sys.argv[2:5])
    else:
        raise SystemExit("usage: hf_bart.py make DIR SEED | run DIR CASES.json OUT.json")
