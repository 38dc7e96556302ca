namespace Masking.Taggers

open System
open System.Collections.Generic
open Masking

/// Features and greedy decoding: what a trained tagger does with a sentence (training is TaggerTraining, the
/// file format TaggerFile).
module Tagger =
    /// The most features one word has (the buffers' size).
    let internal maxFeatures = 64

    let private lexiconTypes = [| "O"; "PER"; "ORG"; "LOC"; "MISC" |]

    /// A sentence's per-word values, computed once and padded with two "<s>" and two "</s>" words, so that
    /// every token's features (which look two words either way) reuse them.
    type SentenceView =
        {
            Padded: string[]
            Lower: string[]
            Shape: string[]
            Short: string[]
            Lexicon: int[]
            Gazetteer: int[]
            /// CaseProfiles class per padded position (NER only).
            Case: int[]
            Flags: int[]
            /// Cluster ids per granularity, per padded position (WordClusters.none for unknown words).
            Clusters: int[][]
            Headline: bool
        }

    let private lowerChars (w: string) =
        String.Create(
            w.Length,
            w,
            fun span source ->
                for i in 0 .. source.Length - 1 do
                    span[i] <- Char.ToLowerInvariant source[i]
        )

    let clusterGranularities = 3

    let view
        (kind: TaggerKind)
        (lexicon: Dictionary<string, int>)
        (gazetteer: Dictionary<string, int>)
        (clusters: Dictionary<string, int[]>)
        (caseProfiles: Dictionary<string, int>)
        (words: string[])
        =
        let padded = Array.concat [ [| "<s>"; "<s>" |]; words; [| "</s>"; "</s>" |] ]
        let lower = padded |> Array.map lowerChars

        let lookup (table: Dictionary<string, int>) missing (l: string) =
            match table.TryGetValue l with
            | true, v -> v
            | _ -> missing

        { Padded = padded
          Lower = lower
          Shape = padded |> Array.map Features.shape
          Short =
            (if kind = NerTagger then
                 padded |> Array.map Features.shortShape
             else
                 [||])
          Lexicon =
            (if kind = NerTagger then
                 lower |> Array.map (lookup lexicon -1)
             else
                 [||])
          Gazetteer =
            (if kind = NerTagger then
                 lower |> Array.map (lookup gazetteer 0)
             else
                 [||])
          Case =
            (if kind = NerTagger then
                 lower |> Array.map (CaseProfiles.lookup caseProfiles)
             else
                 [||])
          Flags = padded |> Array.map Features.wordFlags
          Clusters =
            (let ids = lower |> Array.map (WordClusters.idsOf clusters clusterGranularities)
             Array.init clusterGranularities (fun g -> ids |> Array.map (fun w -> w[g])))
          Headline = Features.isHeadline words }

    /// Hashed features of word i given the previous two predicted tags; returns how many were written.
    let features
        (kind: TaggerKind)
        (context: DocumentContext)
        (v: SentenceView)
        (i: int)
        (prev: int)
        (prev2: int)
        (out: uint64[])
        =
        let mutable n = 0

        let add (h: uint64) =
            out[n] <- h
            n <- n + 1

        let at = i + 2
        let w = v.Padded[at]
        let lower = v.Lower[at]
        let pLower, nLower = v.Lower[at - 1], v.Lower[at + 1]
        add (Features.hashString 0 "bias")
        add (Features.hashString 1 lower)
        add (Features.hashInts 19 prev 0)
        add (Features.hashInts 20 prev prev2)
        add (Features.combine (Features.hashInts 28 prev 0) (Features.hashString 28 lower))
        add (Features.hashString 13 pLower)
        add (Features.hashString 14 nLower)
        add (Features.hashString 15 v.Lower[at - 2])
        add (Features.hashString 16 v.Lower[at + 2])
        add (Features.hashString 3 v.Shape[at])

        for k in 1..4 do
            if lower.Length >= k then
                add (Features.hashSpan (8 + k) lower (lower.Length - k) k)

        for k in 1..3 do
            if lower.Length >= k then
                add (Features.hashSpan (4 + k) lower 0 k)

        let flags = v.Flags[at] ||| (if i = 0 then 16 else 0)

        add (Features.hashInts 22 flags 0)

        if pLower.Length >= 3 then
            add (Features.hashSpan 30 pLower (pLower.Length - 3) 3)

        if nLower.Length >= 3 then
            add (Features.hashSpan 31 nLower (nLower.Length - 3) 3)

        let coarse, middle, fine = v.Clusters[0], v.Clusters[1], v.Clusters[2]
        add (Features.hashInts 50 coarse[at] 0)
        add (Features.hashInts 51 middle[at] 0)
        add (Features.hashInts 52 fine[at] 0)
        add (Features.hashInts 53 middle[at - 1] middle[at])
        add (Features.hashInts 54 middle[at] middle[at + 1])
        add (Features.hashInts 55 fine[at - 1] 0)
        add (Features.hashInts 56 fine[at + 1] 0)
        add (Features.hashInts 57 middle[at] prev)

        match kind with
        | PosTagger ->
            add (Features.hashString 2 w)

            let suffix3 =
                if lower.Length >= 3 then
                    Features.hashSpan 41 lower (lower.Length - 3) 3
                else
                    Features.hashString 41 lower

            add (Features.combine suffix3 (Features.hashInts 41 prev 0))
            add (Features.combine (Features.hashString 42 lower) (Features.hashString 42 nLower))
            add (Features.combine (Features.hashString 43 pLower) (Features.hashString 43 lower))
            add (Features.hashString 44 v.Shape[at + 1])
            add (Features.combine (Features.hashInts 45 prev 0) (Features.hashString 45 nLower))
        | NerTagger ->
            add (Features.hashString 2 w)
            let short = v.Short[at]
            let lex, lexP, lexN = v.Lexicon[at], v.Lexicon[at - 1], v.Lexicon[at + 1]
            add (Features.hashString 4 short)
            add (Features.hashString 17 v.Short[at - 1])
            add (Features.hashString 18 v.Short[at + 1])
            add (Features.combine (Features.hashInts 21 prev 0) (Features.hashString 21 short))
            add (Features.combine (Features.hashString 26 lower) (Features.hashString 26 nLower))
            add (Features.combine (Features.hashString 27 pLower) (Features.hashString 27 lower))
            add (Features.hashInts 23 lex 0)
            add (Features.hashInts 24 lexP lex)
            add (Features.hashInts 25 lexN lex)
            add (Features.combine (Features.hashInts 32 lex flags) (Features.hashInts 32 prev 0))

            add (
                Features.combine
                    (Features.hashInts 29 (if v.Headline then 1 else 0) flags)
                    (Features.hashString 29 short)
            )

            let seenLower = context.LowerCaseWords.Contains lower
            add (Features.hashInts 33 (if seenLower then 1 else 0) flags)

            add (
                Features.combine (Features.hashInts 34 (if seenLower then 1 else 0) lex) (Features.hashString 34 short)
            )

            add (Features.hashStrings 35 v.Shape[at - 1] v.Shape[at] v.Shape[at + 1])
            let g = v.Gazetteer[at]

            if not (isNull context.FirstPassTypes) then
                let typeOf (l: string) =
                    match context.FirstPassTypes.TryGetValue l with
                    | true, t -> t
                    | _ -> 0

                let t = typeOf lower
                add (Features.hashInts 39 t flags)
                add (Features.hashInts 40 t (typeOf nLower))
                add (Features.combine (Features.hashInts 46 t prev) (Features.hashString 46 short))

            let case = v.Case[at]
            add (Features.hashInts 60 case flags)
            add (Features.hashInts 61 case v.Case[at + 1])
            add (Features.combine (Features.hashInts 62 case v.Case[at - 1]) (Features.hashInts 62 prev 0))
            add (Features.hashInts 36 g flags)
            add (Features.hashInts 37 g v.Gazetteer[at + 1])
            add (Features.hashInts 38 g v.Gazetteer[at - 1])

        n

    /// IOB2: I-X may only follow B-X or I-X; otherwise it is read as B-X.
    let private repair (tags: string[]) (prev: int) (best: int) (index: Dictionary<string, int>) =
        let t = tags[best]

        if t.StartsWith "I-" then
            let entity = t.Substring 2
            let before = if prev >= 0 && prev < tags.Length then tags[prev] else "O"

            if before = "B-" + entity || before = "I-" + entity then
                best
            else
                match index.TryGetValue("B-" + entity) with
                | true, b -> b
                | _ -> best
        else
            best

    let private indexes =
        System.Runtime.CompilerServices.ConditionalWeakTable<string[], Dictionary<string, int>>()

    /// Tag → index, built once per model.
    let internal tagIndex (model: TaggerModel) =
        indexes.GetValue(
            model.Tags,
            fun tags ->
                let d = Dictionary<string, int>()
                tags |> Array.iteri (fun i t -> d[t] <- i)
                d
        )

    let private noContext =
        { LowerCaseWords = HashSet<string>()
          FirstPassTypes = null }

    /// Tags one sentence with a given perceptron (first or second pass).
    let internal tagPass
        (model: TaggerModel)
        (perceptron: AveragedPerceptron)
        (index: Dictionary<string, int>)
        (context: DocumentContext)
        (v: SentenceView)
        : string[] =
        let words = v.Padded.Length - 4
        let buffer = Array.zeroCreate<uint64> maxFeatures
        let buckets = Array.zeroCreate<int> maxFeatures
        let scores = Array.zeroCreate<float32> model.Tags.Length
        let result = Array.zeroCreate<string> words
        let mutable prev, prev2 = -1, -1

        for i in 0 .. words - 1 do
            let n = features model.Kind context v i prev prev2 buffer

            for k in 0 .. n - 1 do
                buckets[k] <- perceptron.Bucket buffer[k]

            perceptron.Score(ReadOnlySpan(buckets, 0, n), scores)
            let mutable best = 0

            for c in 1 .. scores.Length - 1 do
                if scores[c] > scores[best] then
                    best <- c

            let best =
                if model.Kind = NerTagger then
                    repair model.Tags prev best index
                else
                    best

            result[i] <- model.Tags[best]
            prev2 <- prev
            prev <- best

        result

    /// Tags the sentences of one document together: document-level features see all of them, and NER's
    /// second pass sees the first pass's types.
    let tagDocument (model: TaggerModel) (sentences: string[] list) =
        let index = tagIndex model
        // Only NER's features read the document.
        let context =
            if model.Kind = NerTagger then
                DocumentContext.ofSentences sentences
            else
                noContext

        let views =
            sentences
            |> List.map (view model.Kind model.Lexicon model.Gazetteer model.Clusters model.CaseProfiles)

        let first = views |> List.map (tagPass model model.Perceptron index context)

        match model.DocumentPass with
        | None -> first
        | Some second ->
            let context = DocumentContext.withFirstPass sentences first context
            views |> List.map (tagPass model second index context)

    let tag (model: TaggerModel) (words: string[]) = (tagDocument model [ words ]).Head

    /// The lexicon for NER: each lower-cased training word's most frequent entity type, when it is inside an
    /// entity at least half of the times it occurs.
    let buildLexicon (sentences: TaggedSentence list) =
        let counts = Dictionary<string, int[]>()

        for s in sentences do
            for w, t in Array.zip s.Words s.Tags do
                let key = w.ToLowerInvariant()

                if not (counts.ContainsKey key) then
                    counts[key] <- Array.zeroCreate lexiconTypes.Length

                let entity = if t = "O" then "O" else t.Substring 2
                let k = max 0 (Array.IndexOf(lexiconTypes, entity))
                counts[key][k] <- counts[key][k] + 1

        let lexicon = Dictionary<string, int>()

        for KeyValue(word, c) in counts do
            let total = Array.sum c
            let best = [ 1 .. c.Length - 1 ] |> List.maxBy (fun k -> c[k])

            if c[best] * 2 >= total && c[best] > 0 then
                lexicon[word] <- best

        lexicon
