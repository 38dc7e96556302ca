module Masking.Tests.PmiVocabularyTests

open System
open System.IO
open Xunit
open FsCheck.Xunit
open Masking
open Masking.Policies
open Masking.Tokenizers
open Masking.Tests.TestData

let private gpt2 = lazy (Gpt2Tokenizer.Embedded() :> ITokenizer)

let private options minCount =
    { PmiOptions.Defaults with
        MinCount = minCount }

let private wikiVocab =
    lazy
        (PmiVocabulary.build gpt2.Value (options 3) (File.ReadLines(fixture "wikitext2/wiki.valid.raw"))
         |> fst)

let private tempFile () =
    Path.Combine(Directory.CreateTempSubdirectory("masking-pmi-").FullName, "vocab.json")

[<Fact>]
let ``PMI of a bigram is log p(xy) / (p(x) p(y)), of a trigram the smallest over its cuts`` () =
    // Words: a a a b c (lines "a b c", "a b", "a"): unigrams a 3, b 2, c 1 of 6; bigrams "a b" 2, "b c" 1 of 3;
    // the trigram "a b c" 1 of 1.
    let entries, words =
        PmiVocabulary.build gpt2.Value (options 1) [ "a b c"; "a b"; "a" ]

    let pmiOf text =
        (entries |> Array.find (fun e -> e.Text = text)).Pmi

    Assert.Equal(6L, words)
    Assert.Equal(Math.Round(log ((2.0 / 3.0) / ((3.0 / 6.0) * (2.0 / 6.0))), 6), pmiOf "a b")
    Assert.Equal(Math.Round(log ((1.0 / 3.0) / ((2.0 / 6.0) * (1.0 / 6.0))), 6), pmiOf "b c")
    // Cuts of "a b c": a|b c, a b|c, a|b|c.
    let cuts =
        [ log 1.0 - log (3.0 / 6.0) - log (1.0 / 3.0)
          log 1.0 - log (2.0 / 3.0) - log (1.0 / 6.0)
          log 1.0 - log (3.0 / 6.0) - log (2.0 / 6.0) - log (1.0 / 6.0) ]

    Assert.Equal(Math.Round(List.min cuts, 6), pmiOf "a b c")

[<Fact>]
let ``WikiText's collocations come out on top and its function-word pairs near the bottom`` () =
    let ranked = wikiVocab.Value |> Array.map (fun e -> e.Text)
    let rank text = Array.IndexOf(ranked, text)

    for collocation in
        [ "Atlantic Ocean"
          "Golden Age"
          "Order of the British Empire"
          "Register of Historic Places" ] do
        Assert.InRange(rank collocation, 0, 29)

    for pair in [ "of the"; "in the" ] do
        Assert.InRange(rank pair, ranked.Length * 4 / 5, ranked.Length - 1)

    // Punctuation is no collocation.
    Assert.All(ranked, fun t -> Assert.DoesNotContain(",", t))

[<Fact>]
let ``the vocabulary is the same bytes every time and loads back with every n-gram`` () =
    let a, b = tempFile (), tempFile ()

    for path in [ a; b ] do
        let entries, words =
            PmiVocabulary.build gpt2.Value (options 3) (File.ReadLines(fixture "wikitext2/wiki.valid.raw"))

        PmiVocabulary.write path gpt2.Value (options 3) words entries

    Assert.Equal<byte[]>(File.ReadAllBytes a, File.ReadAllBytes b)
    let loaded = PmiVocabulary.load a |> Result.defaultWith failwith
    Assert.Equal(wikiVocab.Value.Length, loaded.Count)
    Assert.Equal(5, loaded.MaxWords)
    Assert.Equal(gpt2.Value.Specials.VocabSize, loaded.VocabSize)

[<Theory>]
[<InlineData("{\"format\":\"masking-pmi-vocab/1\",\"vocab_size\":10,\"ngrams\":[\n{\"words\":[[1],[2]]},\n{\"words\":[[1]]}]}",
             3,
             "expected an n-gram of at least two words, found 1")>]
[<InlineData("{\"format\":\"masking-pmi-vocab/1\",\"vocab_size\":10,\"ngrams\":[\n{\"words\":[[1],[12]]}]}",
             2,
             "expected token ids below vocab_size 10, found 12")>]
[<InlineData("{\"format\":\"other\"}", 1, "expected \"format\": \"masking-pmi-vocab/1\"")>]
[<InlineData("{\"format\":\"masking-pmi-vocab/1\",\n\"vocab_size\":-1}",
             2,
             "expected \"vocab_size\" as a non-negative integer")>]
[<InlineData("{\"format\":\"masking-pmi-vocab/1\",\"vocab_size\":10,\"ngrams\":[\n{\"words\":[[1],[2]]", 2, "expected")>]
let ``a damaged vocabulary is named with its line`` (text: string, line: int, expected: string) =
    let path = tempFile ()
    File.WriteAllText(path, text)

    match PmiVocabulary.load path with
    | Ok _ -> failwith "loaded a damaged vocabulary"
    | Error e ->
        Assert.StartsWith(sprintf "%s:%d: " path line, e)
        Assert.Contains(expected, e)

let private pmiPolicy (spec: string) (vocabPath: string) =
    PolicySpec.resolve gpt2.Value.Specials (sprintf "pmi:vocab=%s%s" vocabPath spec)
    |> Result.defaultWith failwith

[<Fact>]
let ``pmi masks the sentence's collocation whole before any single word`` () =
    let path = tempFile ()
    // The 100 best, as a vocabulary keeps only the top of the ranking: "of the" (near the bottom) is not among them.
    PmiVocabulary.write path gpt2.Value (options 3) 0L (Array.truncate 100 wikiVocab.Value)
    let t = gpt2.Value
    let text = "In 1950 she was made a Member of the Order of the British Empire."
    let ex = Example.ofEncoded (t.Encode text)

    for seed in 0UL .. 9UL do
        let m = (pmiPolicy "" path).Apply (MaskContext.ofSeed seed) ex
        // The budget (15% of 16 tokens: 2) is spent on the only collocation, which is longer.
        let span = Assert.Single m.Spans
        Assert.Equal(" Order of the British Empire", t.Decode ex.Tokens[span.Start .. span.End - 1])

[<Fact>]
let ``pmi refuses a missing vocabulary, another tokenizer's, and no vocab knob`` () =
    let path = tempFile ()
    PmiVocabulary.write path gpt2.Value (options 3) 0L wikiVocab.Value

    let error spec =
        match PolicySpec.resolve specials spec with
        | Ok _ -> failwithf "%s resolved" spec
        | Error e -> e

    Assert.Contains("expects vocab=FILE", error "pmi")
    Assert.Contains("/nonexistent.json:0: expected a PMI masking vocabulary", error "pmi:vocab=/nonexistent.json")

    Assert.Contains(
        sprintf "%s:0: expected a vocabulary built with this tokenizer (1000 ids), found one of 50362 ids" path,
        error ("pmi:vocab=" + path)
    )

let private testVocab =
    lazy (PmiVocabulary.load pmiVocabFile.Value |> Result.defaultWith failwith)

[<Property(Arbitrary = [| typeof<Generators> |], MaxTest = 200)>]
let ``pmi meets its budget within one unit and masks a collocation whole or not at all`` (r: RandomExample) =
    let ex = r.Example
    let eligible = Span.totalLength (Units.segment WordUnits specials ex)
    let target = Budget.count 0.3 eligible
    let collocations = Units.segment (NgramUnits(testVocab.Value, false)) specials ex
    let units = Units.segment (NgramUnits(testVocab.Value, true)) specials ex
    let longest = units |> Array.fold (fun m u -> max m u.Length) 1

    [ ""; ",order=uniform" ]
    |> List.forall (fun order ->
        let m =
            resolve (sprintf "pmi:vocab=%s,p=0.3%s" pmiVocabFile.Value order)
            |> fun p -> apply p 21UL ex

        let masked = Span.totalLength m.Spans

        let whole (u: Span) =
            let inside = m.Spans |> Array.exists (fun s -> s.Start <= u.Start && u.End <= s.End)
            let touched = m.Spans |> Array.exists (fun s -> s.Start < u.End && u.Start < s.End)
            inside || not touched

        (masked >= target && masked <= target + longest - 1
         || failwithf "order%s: %d masked, budget %d" order masked target)
        && Array.forall whole collocations)

[<Fact>]
let ``where n-grams overlap the best-ranked is the unit, and the other words stand alone`` () =
    // The test vocabulary lists every pair of ids 105–199 before the triples: "110 111" outranks "111 112" and
    // the triple "110 111 112".
    let ex = Example.ofTokens [| 110; 111; 112; 2; 130 |]

    Assert.Equal<Span[]>(
        [| Span.create 0 2; Span.create 2 3; Span.create 4 5 |],
        Units.segment (NgramUnits(testVocab.Value, true)) specials ex
    )

    Assert.Equal<Span[]>([| Span.create 0 2 |], Units.segment (NgramUnits(testVocab.Value, false)) specials ex)
