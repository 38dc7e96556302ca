namespace Masking.Policies

open Masking

/// How a text is cut into the units a selection picks from. Units never contain special tokens.
type Segmentation =
    /// Every non-special token.
    | TokenUnits
    /// Whole words: a word-start token and its continuation tokens.
    | WordUnits
    /// Annotated spans (entities, dates, ...), optionally only those with the given labels.
    | AnnotationUnits of labels: string list
    /// The word n-grams of a masking vocabulary found in the text (the best-ranked wins an overlap), and with
    /// alsoWords every other word as its own unit.
    | NgramUnits of vocabulary: NgramVocabulary * alsoWords: bool

module Units =
    /// Non-special tokens, each its own unit.
    let tokens (specials: SpecialTokens) (ex: Example) : Span[] =
        let t = ex.Tokens
        let mutable count = 0

        for i in 0 .. t.Length - 1 do
            if not (specials.IsSpecialId t[i]) then
                count <- count + 1

        let units = Array.zeroCreate count
        let mutable k = 0

        for i in 0 .. t.Length - 1 do
            if not (specials.IsSpecialId t[i]) then
                units[k] <- { Start = i; End = i + 1 }
                k <- k + 1

        units

    /// Whole words. A special token ends a word and is never part of one.
    let words (specials: SpecialTokens) (ex: Example) : Span[] =
        let t = ex.Tokens
        let units = ResizeArray<Span>()
        let mutable start = -1

        for i in 0 .. t.Length - 1 do
            if specials.IsSpecialId t[i] then
                if start >= 0 then
                    units.Add { Start = start; End = i }

                start <- -1
            elif ex.WordStarts[i] || start < 0 then
                if start >= 0 then
                    units.Add { Start = start; End = i }

                start <- i

        if start >= 0 then
            units.Add { Start = start; End = t.Length }

        units.ToArray()

    /// Annotated spans (those with one of the labels, or all when labels is empty) that contain no special
    /// token; overlapping annotations keep the earlier one.
    let annotations (labels: string list) (specials: SpecialTokens) (ex: Example) : Span[] =
        let wanted (a: Annotation) =
            (List.isEmpty labels && not (Annotation.isAsked a.Label))
            || labels
               |> List.exists (fun l -> System.String.Equals(l, a.Label, System.StringComparison.OrdinalIgnoreCase))

        let clean (s: Span) =
            s.Length > 0
            && not (Array.exists specials.IsSpecialId ex.Tokens[s.Start .. s.End - 1])

        let sorted =
            ex.Annotations
            |> Array.filter (fun a -> wanted a && clean a.Span)
            |> Array.map (fun a -> a.Span)
            |> Array.sortBy (fun s -> s.Start, s.End)

        let kept = ResizeArray<Span>()

        for s in sorted do
            if kept.Count = 0 || s.Start >= kept[kept.Count - 1].End then
                kept.Add s

        kept.ToArray()

    /// The vocabulary's n-grams found in the text (of adjacent words, no special token between them), the
    /// best-ranked first wherever two overlap (ties: the earlier), and with alsoWords every other word alone.
    let ngrams (vocabulary: NgramVocabulary) (alsoWords: bool) (specials: SpecialTokens) (ex: Example) : Span[] =
        let ws = words specials ex
        let keys = ws |> Array.map (Ngrams.wordKey ex.Tokens)

        let found =
            [| for i in 0 .. ws.Length - 1 do
                   // How many words from i on are adjacent, up to the longest n-gram.
                   let mutable run = 1

                   while run < vocabulary.MaxWords
                         && i + run < ws.Length
                         && ws[i + run - 1].End = ws[i + run].Start do
                       run <- run + 1

                   for n in 2..run do
                       match vocabulary.Rank(Ngrams.key keys[i .. i + n - 1]) with
                       | Some rank -> yield rank, i, n
                       | None -> () |]
            |> Array.sort

        let taken = Array.zeroCreate ws.Length
        let units = ResizeArray<Span>()

        for _, i, n in found do
            if not (Array.exists id taken[i .. i + n - 1]) then
                for j in i .. i + n - 1 do
                    taken[j] <- true

                units.Add
                    { Start = ws[i].Start
                      End = ws[i + n - 1].End }

        if alsoWords then
            for j in 0 .. ws.Length - 1 do
                if not taken[j] then
                    units.Add ws[j]

        units.ToArray() |> Array.sortBy (fun u -> u.Start)

    let segment (segmentation: Segmentation) specials ex =
        match segmentation with
        | TokenUnits -> tokens specials ex
        | WordUnits -> words specials ex
        | AnnotationUnits labels -> annotations labels specials ex
        | NgramUnits(vocabulary, alsoWords) -> ngrams vocabulary alsoWords specials ex
