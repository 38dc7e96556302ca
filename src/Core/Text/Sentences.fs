namespace Masking.Text

open System.Text.RegularExpressions
open Masking

/// A rule-based sentence splitter (character offsets): ends at . ! ? followed by whitespace and an
/// upper-case letter, digit or quote, unless the period ends a common abbreviation or an initial.
module Sentences =
    let private boundary =
        Regex(
            @"(?<=[.!?][""')\]]?)\s+(?=[""'(\[]?[\p{Lu}\p{N}])",
            RegexOptions.Compiled ||| RegexOptions.CultureInvariant
        )

    let private abbreviation =
        Regex(
            @"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Mt|Gen|Col|Lt|Sgt|Capt|Rev|Gov|Sen|Rep|vs|etc|No|Co|Inc|Ltd|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|U\.S|e\.g|i\.e)|\b\p{Lu})\.$",
            RegexOptions.Compiled ||| RegexOptions.CultureInvariant
        )

    let split (text: string) : Span[] =
        let result = ResizeArray<Span>()
        let mutable start = 0

        for m in boundary.Matches text do
            let candidate = text.Substring(start, m.Index - start)

            if not (abbreviation.IsMatch candidate) then
                result.Add { Start = start; End = m.Index }
                start <- m.Index + m.Length

        if start < text.Length then
            result.Add { Start = start; End = text.Length }

        result.ToArray()
        |> Array.filter (fun s -> text.Substring(s.Start, s.Length).Trim().Length > 0)

    /// For each character range, the tokens whose characters it covers: from the first token ending after it
    /// starts to the last token starting before it ends, or None. Binary search over the running maximum of the
    /// tokens' ends and the running minimum of their starts from the right: both are monotone, so the indices
    /// are those a scan from either end finds, in O((tokens + ranges) · log tokens) instead of their product.
    let tryTokenSpans (offsets: Span[]) (charSpans: Span[]) : Span option[] =
        let n = offsets.Length
        let maxEnd = Array.zeroCreate n
        let minStart = Array.zeroCreate n

        for i in 0 .. n - 1 do
            maxEnd[i] <-
                if i = 0 then
                    offsets[0].End
                else
                    max maxEnd[i - 1] offsets[i].End

        for i in n - 1 .. -1 .. 0 do
            minStart[i] <-
                if i = n - 1 then
                    offsets[i].Start
                else
                    min minStart[i + 1] offsets[i].Start

        // The first index where a predicate that is false and then true holds, or n.
        let firstWhere (holds: int -> bool) =
            let mutable lo = 0
            let mutable hi = n

            while lo < hi do
                let mid = lo + (hi - lo) / 2

                if holds mid then hi <- mid else lo <- mid + 1

            lo

        charSpans
        |> Array.map (fun c ->
            let a = firstWhere (fun i -> maxEnd[i] > c.Start)
            let b = firstWhere (fun i -> minStart[i] >= c.End) - 1

            if a < n && b >= 0 && a <= b then
                Some { Start = a; End = b + 1 }
            else
                None)

    /// Maps character ranges onto the tokens whose characters they cover (ranges that cover none are dropped).
    let toTokenSpans (offsets: Span[]) (charSpans: Span[]) : Span[] =
        tryTokenSpans offsets charSpans |> Array.choose id

    /// Labelled character ranges as token annotations, mapped in one pass (ranges that cover no token dropped).
    let toAnnotations (offsets: Span[]) (found: (Span * string)[]) : Masking.Policies.Annotation[] =
        Array.zip found (tryTokenSpans offsets (Array.map fst found))
        |> Array.choose (fun ((_, label), t) -> t |> Option.map (fun t -> { Span = t; Label = label }))
