# Writes answer-cases.jsonl: python3 golden/metrics/squad_reference.py > golden/metrics/answer-cases.jsonl
# The normalisation and scores follow the official SQuAD v1.1 / KILT evaluation scripts (re-typed, with
# SQuAD 2.0's rule for two empty answers, and KILT's rule that an empty guess scores 0); Masking's F# metrics
# are tested against its output.
# Reference: the normalisation and scores of the official SQuAD v1.1 / KILT evaluation scripts.
import re, string, collections, json, sys
def normalize_answer(s):
    def remove_articles(text): return re.sub(r'\b(a|an|the)\b', ' ', text)
    def white_space_fix(text): return ' '.join(text.split())
    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)
    def lower(text): return text.lower()
    return white_space_fix(remove_articles(remove_punc(lower(s))))
def f1_score(prediction, ground_truth):
    p = normalize_answer(prediction).split(); g = normalize_answer(ground_truth).split()
    if len(p) == 0 and len(g) == 0: return 1.0   # SQuAD 2.0 rule (see Answers.f1)
    common = collections.Counter(p) & collections.Counter(g)
    num_same = sum(common.values())
    if num_same == 0: return 0.0
    precision = num_same / len(p); recall = num_same / len(g)
    return (2 * precision * recall) / (precision + recall)
def em(prediction, ground_truth): return float(normalize_answer(prediction) == normalize_answer(ground_truth))
def best(metric, prediction, golds):
    # KILT's eval_downstream.py strips the guess and skips an empty one: it scores 0 on every metric.
    if len(prediction.strip()) == 0: return 0.0
    return max([metric(prediction, g) for g in golds] or [0.0])
cases = [
  ("exact", "Paris", ["Paris"]),
  ("case and punctuation", "paris!", ["Paris"]),
  ("articles", "The Eiffel Tower", ["Eiffel Tower"]),
  ("article inside a word is kept", "Theatre", ["atre"]),
  ("an and a", "a an apple", ["apple"]),
  ("partial overlap", "the city of Paris", ["Paris France"]),
  ("max over golds", "George Washington", ["Washington", "George Washington", "G. Washington"]),
  ("tie between golds", "red blue", ["red green", "blue green"]),
  ("repeated tokens", "the the cat cat cat", ["cat"]),
  ("empty prediction", "", ["Paris"]),
  ("prediction normalises to nothing", "the", ["Paris"]),
  ("both normalise to nothing", "a", ["The"]),
  ("unicode kept", "Zürich", ["zürich"]),
  ("unicode punctuation is not ASCII punctuation", "Paris—France", ["Paris France"]),
  ("whitespace", "  New   York\tCity\n", ["new york city"]),
  ("numbers", "1,000", ["1000"]),
  ("hyphen", "well-known", ["wellknown"]),
  ("no golds", "anything", []),
  ("empty prediction, gold normalising to nothing (KILT skips empty guesses)", "", ["---"]),
  ("whitespace-only prediction (KILT strips, then skips it)", "  ", ["---", "Paris"]),
]
out = []
for name, p, golds in cases:
    out.append({"case": name, "prediction": p, "golds": golds,
                "em": round(best(em, p, golds), 6), "f1": round(best(f1_score, p, golds), 6),
                "normalized": normalize_answer(p)})
for o in out: print(json.dumps(o, ensure_ascii=False))
