namespace Masking.Text

open System.Text.RegularExpressions
open Masking
open Masking.Policies

/// Which characters of a text the spans added so far cover. For spans that are never empty, sharing a character
/// is overlapping, and the test costs the span's length instead of the number of spans added.
type CharCoverage(length: int) =
    let covered = Array.zeroCreate<bool> length

    member _.Add(s: Span) =
        for c in s.Start .. s.End - 1 do
            covered[c] <- true

    member _.Overlaps(s: Span) =
        let mutable hit = false
        let mutable c = s.Start

        while not hit && c < s.End do
            hit <- covered[c]
            c <- c + 1

        hit

/// A rule-based finder of salient spans (dates, numbers, capitalised names), so that `ssm` works on raw
/// text before a trained NER tagger is available. A documented approximation: precision is modest.
module SalientSpans =
    let private month =
        "January|February|March|April|May|June|July|August|September|October|November|December"

    let private date =
        Regex(
            sprintf
                @"\b(?:\d{1,2} (?:%s)(?:,? \d{3,4})?|(?:%s) \d{1,2}(?:st|nd|rd|th)?(?:,? \d{3,4})?|(?:%s) \d{4}|(?:1[0-9]|20)\d{2}s?)\b"
                month
                month
                month,
            RegexOptions.Compiled ||| RegexOptions.CultureInvariant
        )

    let private number =
        Regex(
            @"\b\d+(?:[.,]\d+)*(?: (?:percent|million|billion|thousand|hundred))?\b",
            RegexOptions.Compiled ||| RegexOptions.CultureInvariant
        )

    // Capitalised words, allowing lower-case connectives inside a name ("Bank of England").
    let private name =
        Regex(
            @"\b\p{Lu}[\p{L}'’\-]*(?:\s+(?:(?:of|the|de|von|van|and|la|del)\s+)?\p{Lu}[\p{L}'’\-]*)*",
            RegexOptions.Compiled ||| RegexOptions.CultureInvariant
        )

    let private commonSentenceStarts =
        set
            [ "The"
              "A"
              "An"
              "In"
              "On"
              "At"
              "It"
              "He"
              "She"
              "They"
              "We"
              "I"
              "This"
              "That"
              "These"
              "Those"
              "His"
              "Her"
              "Its"
              "Their"
              "After"
              "Before"
              "During"
              "When"
              "While"
              "As"
              "However"
              "But"
              "And"
              "Although"
              "There"
              "Following"
              "By"
              "For"
              "From"
              "With"
              "Of"
              "To"
              "If"
              "Some"
              "Many"
              "Most"
              "All"
              "One"
              "Two"
              "Both"
              "Other"
              "Another"
              "Several" ]

    /// Character spans with labels DATE, NUMBER or NAME; overlaps resolved in that order of priority.
    let find (text: string) : (Span * string)[] =
        let found = ResizeArray<Span * string>()
        let covered = CharCoverage text.Length
        let taken (s: Span) = covered.Overlaps s

        let keep (s: Span) label =
            found.Add(s, label)
            covered.Add s

        let add label (m: Match) =
            let s =
                { Start = m.Index
                  End = m.Index + m.Length }

            if s.Length > 0 && not (taken s) then
                keep s label

        for m in date.Matches text do
            add "DATE" m

        for m in number.Matches text do
            add "NUMBER" m

        for sentence in Sentences.split text do
            let body = text.Substring(sentence.Start, sentence.Length)
            // A match preceded by nothing but spaces starts the sentence.
            let lead = body.Length - body.TrimStart().Length

            for m in name.Matches body do
                let words = m.Value.Split(' ')
                let atStart = m.Index <= lead
                // A lone capitalised word at the start of a sentence is usually just capitalisation.
                let value, offset =
                    if atStart && commonSentenceStarts.Contains words[0] then
                        let rest = m.Value.Substring(words[0].Length).TrimStart()
                        rest, m.Value.Length - rest.Length
                    else
                        m.Value, 0

                if value.Length > 0 && not (atStart && offset = 0 && words.Length = 1) then
                    let s =
                        { Start = sentence.Start + m.Index + offset
                          End = sentence.Start + m.Index + offset + value.Length }

                    if not (taken s) then
                        keep s "NAME"

        found.ToArray() |> Array.sortBy (fun (s, _) -> s.Start)

    /// An example for the policies: tokens, word starts, rule-based sentences and salient spans.
    let annotate (tokenizer: ITokenizer) (text: string) : Example =
        let e = tokenizer.Encode text

        { Example.ofEncoded e with
            Sentences = Sentences.toTokenSpans e.Offsets (Sentences.split text)
            Annotations = Sentences.toAnnotations e.Offsets (find text) }
