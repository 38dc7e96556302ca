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

    /// Maps character ranges onto the tokens whose characters they cover.
    let toTokenSpans (offsets: Span[]) (charSpans: Span[]) : Span[] =
        [| for c in charSpans do
               let first = offsets |> Array.tryFindIndex (fun o -> o.End > c.Start)
               let last = offsets |> Array.tryFindIndexBack (fun o -> o.Start < c.End)

               match first, last with
               | Some a, Some b when a <= b -> { Start = a; End = b + 1 }
               | _ -> () |]
