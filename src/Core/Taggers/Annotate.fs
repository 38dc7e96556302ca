namespace Masking.Taggers

open System
open System.Text.RegularExpressions
open Masking
open Masking.Policies
open Masking.Text

/// Word-level tags on raw text, aligned to subword tokens: what `ssm` and the analyses use on real text.
module Annotate =
    // A surrogate pair (an emoji, any character outside the BMP) is one symbol: `[^\w\s]` alone would match
    // each half as a word of its own. Text without surrogates matches exactly as before.
    let private wordPattern =
        Regex(
            @"\w+(?:[-'’.]\w+)*|[\uD800-\uDBFF][\uDC00-\uDFFF]|[^\w\s]",
            RegexOptions.Compiled ||| RegexOptions.CultureInvariant
        )

    /// Words of a text with their character ranges (CoNLL-like: punctuation split off).
    let words (text: string) : (string * Span)[] =
        [| for m in wordPattern.Matches text ->
               m.Value,
               { Start = m.Index
                 End = m.Index + m.Length } |]

    /// The words inside each span, words and spans both sorted by start and disjoint: in one pass, what filtering
    /// every word by every span gives (that was quadratic on one long line of many sentences).
    let private wordsWithin (ws: (string * Span)[]) (spans: Span[]) : (string * Span)[][] =
        let result = Array.zeroCreate spans.Length
        let mutable i = 0

        for k in 0 .. spans.Length - 1 do
            let s = spans[k]

            while i < ws.Length && (snd ws[i]).Start < s.Start do
                i <- i + 1

            let first = i

            while i < ws.Length && (snd ws[i]).End <= s.End do
                i <- i + 1

            result[k] <- ws[first .. i - 1]

        result

    /// Each subword token's word index (the word holding the token's first character), or -1.
    let tokenToWord (wordSpans: Span[]) (tokenOffsets: Span[]) =
        tokenOffsets
        |> Array.map (fun t ->
            // The first word that ends after the token's first non-space character starts.
            wordSpans
            |> Array.tryFindIndex (fun w -> w.End > t.Start && w.Start < t.End)
            |> Option.defaultValue -1)

    /// Entities of a text as character spans with labels, from a NER model (sentence by sentence, the text
    /// being one document) and from the date/number rules (where they do not overlap an entity).
    let entities (ner: TaggerModel) (text: string) : (Span * string)[] =
        let sentences = Sentences.split text

        let perSentence =
            wordsWithin (words text) sentences
            |> Array.filter (fun ws -> ws.Length > 0)
            |> List.ofArray

        let tagged = Tagger.tagDocument ner (perSentence |> List.map (Array.map fst))

        let found =
            [| for ws, tags in List.zip perSentence tagged do
                   for start, stop, label in Evaluation.entities tags do
                       yield
                           { Start = (snd ws[start]).Start
                             End = (snd ws[stop - 1]).End },
                           label |]

        let covered = CharCoverage text.Length

        for f, _ in found do
            covered.Add f

        let overlaps (s: Span) = covered.Overlaps s

        let rules =
            SalientSpans.find text
            |> Array.filter (fun (s, label) -> (label = "DATE" || label = "NUMBER") && not (overlaps s))

        Array.append found rules |> Array.sortBy (fun (s, _) -> s.Start)

    /// An example for the policies: tokens, word starts, rule-based sentences, and entity/date spans from
    /// the NER model (or from the rules alone when there is no model).
    let example (ner: TaggerModel option) (tokenizer: ITokenizer) (text: string) : Example =
        match ner with
        | None -> SalientSpans.annotate tokenizer text
        | Some model ->
            let e = tokenizer.Encode text

            { Example.ofEncoded e with
                Sentences = Sentences.toTokenSpans e.Offsets (Sentences.split text)
                Annotations = Sentences.toAnnotations e.Offsets (entities model text) }

    /// POS tags of a text's words, and the tag of each subword token (its word's tag).
    let posTags (pos: TaggerModel) (tokenizer: ITokenizer) (text: string) : (string * Span * string)[] * string[] =
        let ws = words text
        let sentences = Sentences.split text

        let tagged =
            wordsWithin ws sentences
            |> Array.collect (fun inside ->
                if inside.Length = 0 then
                    [||]
                else
                    Array.zip inside (Tagger.tag pos (inside |> Array.map fst)))
            |> Array.map (fun ((w, span), tag) -> w, span, tag)

        let e = tokenizer.Encode text
        let spans = tagged |> Array.map (fun (_, s, _) -> s)

        let tokenTags =
            tokenToWord spans e.Offsets
            |> Array.map (fun i -> if i < 0 then "X" else (let _, _, t = tagged[i] in t))

        tagged, tokenTags
