namespace Masking.Metrics

open System
open System.Text
open System.Text.RegularExpressions

/// Answer normalisation and per-example scores, as SQuAD and KILT define them.
module Answers =
    let private punctuation = set "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

    let private articles =
        Regex(@"\b(a|an|the)\b", RegexOptions.Compiled ||| RegexOptions.CultureInvariant)

    /// Lower-case, drop ASCII punctuation (Python's string.punctuation), drop the articles a/an/the as whole
    /// words, collapse whitespace — in that order, as SQuAD's and KILT's evaluation scripts do.
    let normalize (s: string) =
        let lower = s.ToLowerInvariant()
        let sb = StringBuilder(lower.Length)

        for c in lower do
            if not (punctuation.Contains c) then
                sb.Append c |> ignore

        let noArticles = articles.Replace(sb.ToString(), " ")
        String.Join(" ", noArticles.Split((null: char[]), StringSplitOptions.RemoveEmptyEntries))

    let tokens (s: string) =
        (normalize s).Split(' ', StringSplitOptions.RemoveEmptyEntries)

    /// F1 of an overlap of `same` units between a prediction and a gold answer of the given lengths.
    let overlapF1 (same: int) (predicted: int) (gold: int) =
        if same = 0 then
            0.0
        else
            let precision = float same / float predicted
            let recall = float same / float gold
            2.0 * precision * recall / (precision + recall)

    /// Exact match after normalisation.
    let exactMatch (prediction: string) (gold: string) =
        if normalize prediction = normalize gold then 1.0 else 0.0

    /// Token F1 over normalised whitespace tokens (bag of tokens). When both sides normalise to nothing the
    /// answer is right (SQuAD 2.0's rule; SQuAD 1.1 and KILT give 0 there, which would make EM > F1).
    let f1 (prediction: string) (gold: string) =
        let p, g = tokens prediction, tokens gold

        if p.Length = 0 && g.Length = 0 then
            1.0
        else
            let counts = Collections.Generic.Dictionary<string, int>()

            for t in g do
                counts[t] <-
                    (match counts.TryGetValue t with
                     | true, c -> c
                     | _ -> 0)
                    + 1

            let mutable same = 0

            for t in p do
                match counts.TryGetValue t with
                | true, c when c > 0 ->
                    counts[t] <- c - 1
                    same <- same + 1
                | _ -> ()

            overlapF1 same p.Length g.Length

    /// KILT's strict accuracy: the strings are equal as they are.
    let strictAccuracy (prediction: string) (gold: string) = if prediction = gold then 1.0 else 0.0

    /// Multiple-choice accuracy: the chosen option equals the gold one, ignoring case and outer whitespace.
    let choiceAccuracy (prediction: string) (gold: string) =
        if String.Equals(prediction.Trim(), gold.Trim(), StringComparison.OrdinalIgnoreCase) then
            1.0
        else
            0.0

    /// ROUGE-L F over whitespace tokens, with the F-measure of the `rouge` package KILT calls (its β is P/R),
    /// unnormalised as KILT passes the strings. The package also splits multi-sentence texts on '.' for a
    /// summary-level LCS; single-sentence answers, the usual case, score the same here.
    let rougeL (prediction: string) (gold: string) =
        let p = prediction.Split((null: char[]), StringSplitOptions.RemoveEmptyEntries)
        let g = gold.Split((null: char[]), StringSplitOptions.RemoveEmptyEntries)

        if p.Length = 0 || g.Length = 0 then
            0.0
        else
            let table = Array2D.zeroCreate (p.Length + 1) (g.Length + 1)

            for i in 1 .. p.Length do
                for j in 1 .. g.Length do
                    table[i, j] <-
                        if p[i - 1] = g[j - 1] then
                            table[i - 1, j - 1] + 1
                        else
                            max table[i - 1, j] table[i, j - 1]

            let lcs = float table[p.Length, g.Length]
            let r = lcs / float g.Length
            let precision = lcs / float p.Length
            let beta = precision / (r + 1e-12)
            (1.0 + beta * beta) * r * precision / (r + beta * beta * precision + 1e-12)

    /// The best score of a prediction over all gold answers (0 when there are none). An empty prediction (nothing
    /// but whitespace) scores 0 on every metric, as KILT's eval_downstream.py skips empty guesses: without this
    /// rule it would match a gold answer that normalises to nothing (NQ-open dev has the answer "---").
    let bestOver (score: string -> string -> float) (prediction: string) (golds: string seq) =
        if String.IsNullOrWhiteSpace prediction then
            0.0
        else
            Seq.fold (fun best g -> max best (score prediction g)) 0.0 golds
