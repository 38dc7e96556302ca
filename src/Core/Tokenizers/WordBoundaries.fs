namespace Masking.Tokenizers

open System.Text.RegularExpressions
open Masking

/// Where words start, for every vocabulary style. Whole-word masking and POS alignment need it; deriving
/// it from the vocabulary convention (not from "##") is what makes whole-word masking work for
/// byte-level BPE too (transformers#12371).
module WordBoundaries =
    /// GPT-2's pre-tokenisation: contractions, letters, numbers, other symbols, whitespace.
    let pretokenRegex =
        Regex(
            @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+",
            RegexOptions.Compiled ||| RegexOptions.CultureInvariant
        )

    /// Character ranges of the GPT-2 pre-tokens of a text; they tile the text exactly.
    let pretokens (text: string) : Span[] =
        [| for m in pretokenRegex.Matches text ->
               { Start = m.Index
                 End = m.Index + m.Length } |]

    /// Byte-level BPE: a token starts a word when it is the first token of its pre-token.
    let fromOffsets (text: string) (offsets: Span[]) : bool[] =
        let starts = System.Collections.Generic.HashSet<int>()

        for p in pretokens text do
            starts.Add p.Start |> ignore

        let result = Array.zeroCreate offsets.Length
        let mutable previousStart = -1

        for i in 0 .. offsets.Length - 1 do
            let s = offsets[i].Start
            // Several byte-level tokens can share the start of one multi-byte character.
            result[i] <- s <> previousStart && starts.Contains s
            previousStart <- s

        result

    /// WordPiece-style vocabularies: a token continues a word when it carries the continuation prefix.
    let fromContinuationPrefix (prefix: string) (tokens: string[]) : bool[] =
        tokens
        |> Array.map (fun t -> not (t.StartsWith(prefix, System.StringComparison.Ordinal)))

    /// SentencePiece / GPT-2-style vocabularies whose word-initial tokens carry a marker ("▁" or "Ġ").
    /// The first token of a text always starts a word.
    let fromWordStartMarker (marker: string) (tokens: string[]) : bool[] =
        tokens
        |> Array.mapi (fun i t -> i = 0 || t.StartsWith(marker, System.StringComparison.Ordinal))
