namespace Masking.Policies

open Masking

/// An annotated span of tokens: a named entity, a date, an answer candidate, ...
type Annotation = { Span: Span; Label: string }

/// A candidate span with a score from a learned scorer (the `scored` policy masks from these).
type ScoredSpan = { Span: Span; Score: float }

module ScoredSpan =
    /// Every span widened to whole words (from the start of its first word to the end of its last; a word is a
    /// token that starts one and the tokens after it that do not), keeping the best score where two spans become
    /// one, in the order they first appear: a learned policy then never masks part of a word (" G<mask>reth").
    let snapToWords (wordStarts: bool[]) (spans: ScoredSpan[]) : ScoredSpan[] =
        let n = wordStarts.Length

        let startOf (i: int) =
            let mutable j = min i (n - 1)

            while j > 0 && not wordStarts[j] do
                j <- j - 1

            j

        let endOf (e: int) =
            let mutable j = e

            while j < n && not wordStarts[j] do
                j <- j + 1

            j

        if n = 0 then
            spans
        else
            let best = System.Collections.Generic.Dictionary<Span, int>()
            let result = ResizeArray<ScoredSpan>()

            for s in spans do
                let snapped =
                    { Span = Span.create (startOf s.Span.Start) (endOf (max s.Span.End (s.Span.Start + 1)))
                      Score = s.Score }

                match best.TryGetValue snapped.Span with
                | true, at when result[at].Score >= snapped.Score -> ()
                | true, at -> result[at] <- snapped
                | _ ->
                    best[snapped.Span] <- result.Count
                    result.Add snapped

            result.ToArray()

/// What a policy sees: tokens, word boundaries, sentences and annotations.
type Example =
    {
        Tokens: int[]
        WordStarts: bool[]
        /// Sentence ranges in tokens; empty means the whole example is one sentence.
        Sentences: Span[]
        Annotations: Annotation[]
        Scores: ScoredSpan[]
    }

module Example =
    /// An example with tokens only; every token starts a word.
    let ofTokens (tokens: int[]) =
        { Tokens = tokens
          WordStarts = Array.create tokens.Length true
          Sentences = [||]
          Annotations = [||]
          Scores = [||] }

    let ofEncoded (e: Encoded) =
        { Tokens = e.Ids
          WordStarts = e.WordStarts
          Sentences = [||]
          Annotations = [||]
          Scores = [||] }

    /// The sentences of an example (the whole example when none are given).
    let sentences (ex: Example) =
        if ex.Sentences.Length = 0 then
            [| { Start = 0; End = ex.Tokens.Length } |]
        else
            ex.Sentences

    /// Checks what the policies rely on; bad input is a Result, not an exception.
    let validate (specials: SpecialTokens) (ex: Example) : Result<Example, string> =
        let n = ex.Tokens.Length

        let inRange (s: Span) =
            s.Start >= 0 && s.End <= n && s.Start <= s.End

        if ex.WordStarts.Length <> n then
            Error(sprintf "expected one word-start flag per token (%d tokens, %d flags)" n ex.WordStarts.Length)
        else
            match ex.Tokens |> Array.tryFind (fun t -> t < 0 || t >= specials.VocabSize) with
            | Some t -> Error(sprintf "token id %d is outside the vocabulary (size %d)" t specials.VocabSize)
            | None ->
                if not (Array.forall inRange ex.Sentences) then
                    Error "a sentence range lies outside the tokens"
                elif not (ex.Annotations |> Array.forall (fun a -> inRange a.Span)) then
                    Error "an annotation lies outside the tokens"
                elif
                    not (
                        ex.Scores
                        |> Array.forall (fun s -> inRange s.Span && not (System.Double.IsNaN s.Score))
                    )
                then
                    Error "a scored span lies outside the tokens or has a NaN score"
                else
                    Ok ex

/// A policy's output: the encoder input, the decoder target, and the masked spans in the original tokens
/// (sorted, disjoint, never touching: adjacent masked tokens form one span).
type Masked =
    { Source: int[]
      Target: int[]
      Spans: Span[] }

/// The per-call context: the example's derived seed and the training step (for schedules).
type MaskContext = { Seed: uint64; Step: int64 }

module MaskContext =
    let ofSeed seed = { Seed = seed; Step = 0L }
