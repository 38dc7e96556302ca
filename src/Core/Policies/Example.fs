namespace Masking.Policies

open Masking

/// An annotated span of tokens: a named entity, a date, an answer candidate, ...
type Annotation = { Span: Span; Label: string }

module Annotation =
    /// Labels of the answers the evaluation asks for (generated world only). Only the `oracle` policy and an
    /// explicit `within(...,ASKED_TEST)` see them: "every label" (ssm's default, unit=entity, a scorer's snapping)
    /// leaves them out, so no other policy reads the test questions.
    let askedTest = "ASKED_TEST"

    let askedDev = "ASKED_DEV"

    let isAsked (label: string) =
        label.StartsWith("ASKED_", System.StringComparison.Ordinal)

/// A candidate span with a score from a learned scorer (the `scored` policy masks from these).
type ScoredSpan = { Span: Span; Score: float }

module ScoredSpan =
    /// Every span widened to whole units: words (from the start of its first word to the end of its last; a word
    /// is a token that starts one and the tokens after it that do not) and annotations (a span that overlaps an
    /// entity, a date or a number covers all of it), until neither cuts through one. Where two spans become one,
    /// the best score is kept, in the order they first appear: a learned policy then never masks part of a word
    /// (" G<mask>reth") or of an annotated unit ("<mask> May 1850").
    let snapToUnits (wordStarts: bool[]) (annotations: Annotation[]) (spans: ScoredSpan[]) : ScoredSpan[] =
        let n = wordStarts.Length

        let rec startOf (i: int) =
            if i > 0 && not wordStarts[i] then startOf (i - 1) else i

        let rec endOf (e: int) =
            if e < n && not wordStarts[e] then endOf (e + 1) else e

        let rec widen (s: Span) =
            let words =
                Span.create (startOf (min s.Start (n - 1))) (endOf (max s.End (s.Start + 1)))

            let grown =
                annotations
                |> Array.fold
                    (fun (acc: Span) a ->
                        if a.Span.Start < acc.End && acc.Start < a.Span.End then
                            Span.create (min acc.Start a.Span.Start) (max acc.End a.Span.End)
                        else
                            acc)
                    words

            if grown = s then s else widen grown

        let annotations =
            annotations |> Array.filter (fun a -> not (Annotation.isAsked a.Label))

        if n = 0 then
            spans
        else
            let best = System.Collections.Generic.Dictionary<Span, int>()
            let result = ResizeArray<ScoredSpan>()

            for s in spans do
                let snapped = { Span = widen s.Span; Score = s.Score }

                match best.TryGetValue snapped.Span with
                | true, at when result[at].Score >= snapped.Score -> ()
                | true, at -> result[at] <- snapped
                | _ ->
                    best[snapped.Span] <- result.Count
                    result.Add snapped

            result.ToArray()

    /// Spans widened to whole words only (an example without annotations).
    let snapToWords (wordStarts: bool[]) (spans: ScoredSpan[]) : ScoredSpan[] = snapToUnits wordStarts [||] spans

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
