"""Baseline: Hugging Face DataCollatorForLanguageModeling-style random masking in PyTorch.

What it measures
    Throughput (tokens per second) of the masking step of
    ``DataCollatorForLanguageModeling.torch_mask_tokens`` (mlm=True), written out
    with plain PyTorch ops in the same order as HF does it: special-tokens mask
    (an ``isin`` against the special ids), probability matrix, Bernoulli draw,
    labels = -100 outside the masked positions, 80 % -> <mask>, 10 % -> random
    token, 10 % unchanged. Every batch is cloned first, as the collator works on a
    freshly collated tensor; the clone is timed. No padding or collation is timed.

What it does not do
    It does not build seq2seq targets: the output is (masked inputs, labels) of
    the same shape, as for a BERT/RoBERTa MLM. Our .NET masker does more work per
    token (it builds a source *and* a target sequence), so this is a
    lower bound on the work, not a like-for-like task.

Data
    WikiText-2 (validation split by default), tokenised untimed with a
    from-scratch GPT-2 byte-level BPE (encoder.json + vocab.bpe), concatenated
    and cut into rows of --seq-len (remainder dropped). Special ids are those
    >= 50257 (BART-like specials appended to the GPT-2 vocab; none occur in the
    text), <mask> = 50261, vocabulary size 50262 for random replacement.

Run
    /usr/bin/python3 bench/hf_collator_mask.py --threads 1

The last stdout line is ``tokens_per_second=N``; details go to stderr.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import regex  # Debian package python3-regex (needed for \p{L} / \p{N})
import torch

GPT2_VOCAB = 50257
SPECIAL_IDS = list(range(GPT2_VOCAB, 50262))  # 50257..50261, BART-like specials
MASK_ID = 50261
VOCAB_SIZE = 50262
IGNORE_INDEX = -100

# GPT-2 pre-tokenisation: contractions, letter runs, digit runs, other runs, whitespace.
PRETOKEN = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
)


def byte_alphabet():
    """Map each byte 0..255 to a printable unicode character (GPT-2 scheme)."""
    kept = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("\u00a1"), ord("\u00ac") + 1))
        + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    )
    table = {}
    extra = 0
    for b in range(256):
        if b in kept:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


class ByteLevelBpe:
    def __init__(self, encoder_path, merges_path):
        with open(encoder_path, encoding="utf-8") as f:
            self.token_to_id = json.load(f)
        self.id_to_token = {i: t for t, i in self.token_to_id.items()}
        self.ranks = {}
        with open(merges_path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line or line.startswith("#version"):
                    continue
                left, right = line.split(" ")
                self.ranks[(left, right)] = len(self.ranks)
        self.byte_to_char = byte_alphabet()
        self.char_to_byte = {c: b for b, c in self.byte_to_char.items()}
        self.cache = {}

    def _merge(self, word):
        """Greedy BPE: repeatedly merge the adjacent pair with the lowest rank."""
        parts = list(word)
        while len(parts) > 1:
            best, best_rank = None, None
            for pair in zip(parts, parts[1:]):
                r = self.ranks.get(pair)
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = pair, r
            if best is None:
                break
            merged = []
            i = 0
            while i < len(parts):
                if i + 1 < len(parts) and parts[i] == best[0] and parts[i + 1] == best[1]:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        return parts

    def encode(self, text):
        ids = []
        for piece in PRETOKEN.findall(text):
            cached = self.cache.get(piece)
            if cached is None:
                word = "".join(self.byte_to_char[b] for b in piece.encode("utf-8"))
                cached = [self.token_to_id[t] for t in self._merge(word)]
                self.cache[piece] = cached
            ids.extend(cached)
        return ids

    def decode(self, ids):
        chars = "".join(self.id_to_token[i] for i in ids)
        return bytes(self.char_to_byte[c] for c in chars).decode("utf-8")


def mask_tokens(inputs, special_ids, p, g):
    """HF DataCollatorForLanguageModeling.torch_mask_tokens, with an explicit generator."""
    labels = inputs.clone()
    probability_matrix = torch.full(labels.shape, p)
    special_tokens_mask = torch.isin(inputs, special_ids)
    probability_matrix.masked_fill_(special_tokens_mask, value=0.0)
    masked_indices = torch.bernoulli(probability_matrix, generator=g).bool()
    labels[~masked_indices] = IGNORE_INDEX

    indices_replaced = torch.bernoulli(torch.full(labels.shape, 0.8), generator=g).bool() & masked_indices
    inputs[indices_replaced] = MASK_ID

    indices_random = (
        torch.bernoulli(torch.full(labels.shape, 0.5), generator=g).bool() & masked_indices & ~indices_replaced
    )
    random_words = torch.randint(VOCAB_SIZE, labels.shape, dtype=torch.long, generator=g)
    inputs[indices_random] = random_words[indices_random]
    return inputs, labels


def main():
    default_data = os.environ.get("MASKING_DATA") or str(
        Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    )
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=default_data)
    ap.add_argument("--input", default=None, help="default: DATA/wikitext2/wiki.valid.raw")
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--p", type=float, default=0.15, help="mlm probability")
    ap.add_argument("--seconds", type=float, default=3.0, help="minimum timed duration")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    data = Path(args.data)
    input_path = Path(args.input) if args.input else data / "wikitext2" / "wiki.valid.raw"

    # --- untimed: tokenise and build the batches ---
    text = input_path.read_bytes().decode("utf-8")
    bpe = ByteLevelBpe(data / "gpt2_bpe" / "encoder.json", data / "gpt2_bpe" / "vocab.bpe")
    ids = bpe.encode(text)
    assert bpe.decode(ids) == text, "BPE round trip failed"
    print(f"tokenised {input_path}: {len(ids)} tokens ({len(text)} chars)", file=sys.stderr)

    rows = len(ids) // args.seq_len
    if rows == 0:
        sys.exit("input shorter than one row")
    table = torch.tensor(ids[: rows * args.seq_len], dtype=torch.long).view(rows, args.seq_len)
    batches = list(torch.split(table, args.batch_size))
    special_ids = torch.tensor(SPECIAL_IDS, dtype=torch.long)
    g = torch.Generator().manual_seed(args.seed)

    # Untimed sanity check on the first batch (and warm-up of the allocator).
    inp, lab = mask_tokens(batches[0].clone(), special_ids, args.p, g)
    frac = (lab != IGNORE_INDEX).float().mean().item()
    print(f"sanity: masked fraction of batch 0 = {frac:.4f} (p={args.p})", file=sys.stderr)
    for b in batches:  # one untimed warm-up pass
        mask_tokens(b.clone(), special_ids, args.p, g)
    g.manual_seed(args.seed)

    # --- timed ---
    tokens = 0
    done = 0
    start = time.perf_counter()
    while True:
        b = batches[done % len(batches)]
        mask_tokens(b.clone(), special_ids, args.p, g)
        tokens += b.numel()
        done += 1
        elapsed = time.perf_counter() - start
        if elapsed >= args.seconds and done % len(batches) == 0:
            break

    print(
        f"torch {torch.__version__}, threads={torch.get_num_threads()}, rows={rows}, "
        f"seq_len={args.seq_len}, batch_size={args.batch_size}, batches={done} "
        f"({done // len(batches)} passes), tokens={tokens}, seconds={elapsed:.3f}",
        file=sys.stderr,
    )
    print(f"tokens_per_second={int(tokens / elapsed)}")


if __name__ == "__main__":
    main()
