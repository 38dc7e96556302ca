/// Known bugs of the anchors, each pinned by a test so that Masking never repeats them.
module Masking.Tests.RegressionTests

open Xunit
open Masking
open Masking.Policies
open Masking.Tokenizers
open Masking.Tests.TestData

[<Fact>]
let ``padding is never masked (transformers#11155)`` () =
    // A padded batch row: <s> text </s> <pad> × 40. HF's collator once masked padding.
    let row =
        Array.concat
            [ [| specials.Bos |]
              Array.init 20 (fun i -> 500 + i)
              [| specials.Eos |]
              Array.create 40 specials.Pad ]

    let ex = Example.ofTokens row

    for spec in policySpecs do
        let p = resolve spec

        for seed in 0UL .. 200UL do
            for s in (apply p seed ex).Spans do
                Assert.True(s.Start >= 1 && s.End <= 21, sprintf "%s seed %d masked %O" spec seed s)

[<Fact>]
let ``short sequences always get at least one mask (HF's Bernoulli draw can give none)`` () =
    let ex = Example.ofTokens [| 700; 701; 702; 703 |]

    for spec in [ "rand"; "orig"; "rand:sampling=bernoulli" ] do
        for seed in 0UL .. 500UL do
            Assert.NotEmpty((apply (resolve spec) seed ex).Spans)

[<Fact>]
let ``T5 spans do not always end the sequence (text-to-text-transfer-transformer#905)`` () =
    let ex = Example.ofTokens (Array.init 50 (fun i -> 300 + i))
    let p = resolve "t5"
    let runs = [ for seed in 0UL .. 999UL -> (apply p seed ex).Spans ]

    let endsMasked =
        runs |> List.averageBy (fun s -> if s[s.Length - 1].End = 50 then 1.0 else 0.0)

    let startsMasked =
        runs |> List.averageBy (fun s -> if s[0].Start = 0 then 1.0 else 0.0)
    // 8 noise tokens in ~3 spans among 50: the last (or first) token is noise in roughly 1 of 6 masks.
    Assert.InRange(endsMasked, 0.05, 0.35)
    Assert.InRange(startsMasked, 0.05, 0.35)

[<Fact>]
let ``whole-word masking works for byte-level BPE, not only for ## vocabularies (transformers#12371)`` () =
    let tok = Gpt2Tokenizer.Embedded() :> ITokenizer

    let e =
        tok.Encode
            "Incomprehensibilities notwithstanding, antidisestablishmentarianism remains unbelievably uncharacteristically long."

    Assert.True(
        Array.exists not e.WordStarts,
        "some words must be split into several tokens for this test to mean anything"
    )

    let ex = Example.ofEncoded e

    let p =
        PolicySpec.resolve tok.Specials "whole-word:p=0.3"
        |> Result.defaultWith failwith

    for seed in 0UL .. 100UL do
        for s in (p.Apply (MaskContext.ofSeed seed) ex).Spans do
            Assert.True(e.WordStarts[s.Start], sprintf "span %O starts inside a word" s)
            Assert.True(s.End = e.Ids.Length || e.WordStarts[s.End], sprintf "span %O ends inside a word" s)

[<Fact>]
let ``whole-word masking works for ## vocabularies too`` () =
    let pieces =
        [| "the"; "un"; "##believ"; "##able"; "story"; "of"; "token"; "##ization" |]

    let starts = WordBoundaries.fromContinuationPrefix "##" pieces
    Assert.Equal<bool[]>([| true; true; false; false; true; true; true; false |], starts)

    let ex =
        { Example.ofTokens (Array.init pieces.Length (fun i -> 400 + i)) with
            WordStarts = starts }

    for seed in 0UL .. 100UL do
        for s in (apply (resolve "whole-word:p=0.3") seed ex).Spans do
            Assert.True(starts[s.Start] && (s.End = pieces.Length || starts[s.End]))
