module Masking.Tests.TaggerTests

open System
open System.IO
open Xunit
open Masking
open Masking.Policies
open Masking.Taggers
open Masking.Tokenizers
open Masking.Tests.TestData

let private model (kind: string) =
    lazy
        (let path = Path.Combine(repoRoot.Value, "models", kind + ".tagger")
         TaggerFile.load path |> Result.defaultWith failwith)

let private ner = model "ner"
let private pos = model "pos"

[<Fact>]
let ``word shapes`` () =
    Assert.Equal("XxXxx'x", Features.shape "McDonald's")
    Assert.Equal("Xx", Features.shortShape "London")
    Assert.Equal("d.d", Features.shortShape "3.14")
    Assert.Equal("X.X.", Features.shortShape "U.S.")
    Assert.True(Features.isTitle "London")
    Assert.True(Features.isAllCaps "NATO")
    Assert.False(Features.isAllCaps "Nato")

[<Fact>]
let ``features are hashed the same way every time and differ between templates`` () =
    Assert.Equal(Features.hashString 1 "paris", Features.hashLower 1 "Paris")
    Assert.NotEqual(Features.hashString 1 "paris", Features.hashString 2 "paris")
    let out = Array.zeroCreate 64
    let words = [| "John"; "lives"; "in"; "Paris" |]
    let ctx = DocumentContext.ofSentences [ words ]
    let lexicon = Collections.Generic.Dictionary<string, int>()

    let view =
        Tagger.view
            NerTagger
            lexicon
            lexicon
            (Collections.Generic.Dictionary())
            (Collections.Generic.Dictionary())
            words

    let n = Tagger.features NerTagger ctx view 3 1 0 out
    Assert.InRange(n, 20, 64)
    Assert.Equal(n, out[.. n - 1] |> Array.distinct |> Array.length)
    // The view pads two words either side.
    Assert.Equal<string[]>([| "<s>"; "<s>"; "john"; "lives"; "in"; "paris"; "</s>"; "</s>" |], view.Lower)

[<Fact>]
let ``case profiles count mid-sentence capitals only, outside headlines`` () =
    let sentences =
        [ [| "Yesterday"; "Paris"; "was"; "calm"; "." |]
          [| "Calm"; "nights"; "in"; "Paris"; "." |]
          [| "PARIS"; "WAS"; "CALM"; "TODAY" |]
          [| "The"; "UN"; "said"; "it"; "was"; "calm"; "." |]
          [| "The"; "UN"; "met"; "in"; "Paris"; "." |]
          [| "He"; "said"; ":"; "Calm"; "down"; "." |] ]

    let profiles = CaseProfiles.build 2 sentences
    Assert.Equal(5, CaseProfiles.lookup profiles "paris")
    // "Calm" opens a sentence and follows a colon; the headline's "CALM" is not counted either.
    Assert.Equal(1, CaseProfiles.lookup profiles "calm")
    Assert.Equal(CaseProfiles.acronym, CaseProfiles.lookup profiles "un")
    // "nights" is seen once, under the minimum count.
    Assert.Equal(CaseProfiles.unseen, CaseProfiles.lookup profiles "nights")

[<Fact>]
let ``entities are read from IOB2 as conlleval does`` () =
    Assert.Equal<Set<int * int * string>>(
        set [ 0, 2, "PER"; 4, 5, "LOC" ],
        Evaluation.entities [| "B-PER"; "I-PER"; "O"; "O"; "B-LOC" |]
    )

    Assert.Equal<Set<int * int * string>>(set [ 1, 2, "ORG" ], Evaluation.entities [| "O"; "I-ORG"; "O" |])

    let p, r, f =
        Evaluation.entityF1 [ [| "B-PER"; "I-PER"; "O"; "B-LOC" |] ] [ [| "B-PER"; "O"; "O"; "B-LOC" |] ]

    Assert.Equal(0.5, p)
    Assert.Equal(0.5, r)
    Assert.Equal(0.5, f)

let private tinyCorpus () =
    TaggedCorpora.conllNer (fixture "conll2003/valid.txt") |> List.truncate 300

[<Fact>]
let ``training is deterministic: the same seed gives the same model bytes`` () =
    let trainWith ensemble seed =
        let m =
            TaggerTraining.train
                { TaggerTrainingOptions.defaults NerTagger with
                    Iterations = 2
                    Ensemble = ensemble
                    Seed = seed
                    BucketBits = 16 }
                (tinyCorpus ())
                (fun _ _ _ -> ())

        let path =
            Path.Combine(Path.GetTempPath(), sprintf "masking-%s.tagger" (Guid.NewGuid().ToString "N"))

        TaggerFile.save path m
        let bytes = File.ReadAllBytes path
        File.Delete path
        bytes

    let train = trainWith 1
    Assert.Equal<byte[]>(train 1UL, train 1UL)
    Assert.NotEqual<byte[]>(train 1UL, train 2UL)
    // An ensemble averages perceptrons trained on other sentence orders: deterministic, and not one member.
    Assert.Equal<byte[]>(trainWith 2 1UL, trainWith 2 1UL)
    Assert.NotEqual<byte[]>(train 1UL, trainWith 2 1UL)

[<Fact>]
let ``the shipped models load and record their training`` () =
    let m = ner.Value
    Assert.StartsWith("conll2003/train.txt sha256:", m.Meta["train"])
    Assert.Contains("iterations=", m.Meta["options"])
    Assert.True(m.CaseProfiles.Count > 10000, "the NER model carries its case profiles")
    Assert.True(m.Meta.ContainsKey "dev_f1")
    let p = pos.Value
    Assert.True(p.Meta.ContainsKey "dev_accuracy")

[<Fact>]
let ``the shipped models tag plain sentences sensibly`` () =
    let m = ner.Value

    let tags =
        Tagger.tag
            m
            [| "John"
               "Smith"
               "flew"
               "from"
               "London"
               "to"
               "Germany"
               "on"
               "Monday"
               "." |]

    Assert.Equal<string[]>([| "B-PER"; "I-PER"; "O"; "O"; "B-LOC"; "O"; "B-LOC"; "O"; "O"; "O" |], tags)
    let p = pos.Value

    Assert.Equal<string[]>(
        [| "DET"; "NOUN"; "VERB"; "ADP"; "DET"; "NOUN"; "PUNCT" |],
        Tagger.tag p [| "The"; "cat"; "sat"; "on"; "the"; "mat"; "." |]
    )

[<Fact>]
let ``tags align to subword tokens`` () =
    let p = pos.Value
    let tok = Gpt2Tokenizer.Embedded() :> ITokenizer
    let words, tokenTags = Annotate.posTags p tok "Unbelievably, the committee agreed."
    Assert.Equal(6, words.Length)
    let e = tok.Encode "Unbelievably, the committee agreed."
    Assert.Equal(e.Ids.Length, tokenTags.Length)
    // Every piece of "Unbelievably" carries the word's tag.
    let _, _, first = words[0]

    Assert.All(
        tokenTags[.. (e.Offsets |> Array.findIndex (fun o -> o.Start >= 12)) - 1],
        fun t -> Assert.Equal(first, t)
    )

[<Fact>]
let ``ssm on WikiText masks one entity or date in every sentence that has one`` () =
    let m = ner.Value
    let tok = Gpt2Tokenizer.Embedded() :> ITokenizer
    let ssm = PolicySpec.resolve tok.Specials "ssm" |> Result.defaultWith failwith

    let lines =
        File.ReadLines(fixture "wikitext2/wiki.valid.raw")
        |> Seq.filter (fun l -> l.Trim().Length > 0 && not (l.Trim().StartsWith "="))
        |> Seq.truncate 40
        |> Array.ofSeq

    let mutable sentencesWithEntities = 0

    for i, line in Array.indexed lines do
        let ex = Annotate.example (Some m) tok line
        let masked = ssm.Apply (MaskContext.ofSeed (uint64 i)) ex

        for s in Example.sentences ex do
            let inside =
                ex.Annotations
                |> Array.filter (fun a -> a.Span.Start >= s.Start && a.Span.End <= s.End)

            if inside.Length > 0 then
                sentencesWithEntities <- sentencesWithEntities + 1

                let spans =
                    masked.Spans |> Array.filter (fun x -> x.Start >= s.Start && x.End <= s.End)

                Assert.True(spans.Length >= 1, sprintf "line %d: a sentence with entities got no mask" i)
                // Each masked span is one of the sentence's entities or dates.
                Assert.All(
                    spans,
                    fun x ->
                        Assert.Contains(
                            inside,
                            fun a -> a.Span.Start <= x.Start && x.End <= a.Span.End + 1 || x = a.Span
                        )
                )

    Assert.True(sentencesWithEntities > 50, sprintf "only %d sentences with entities" sentencesWithEntities)

[<Fact>]
let ``a character outside the BMP is one word, never two halves`` () =
    let words = Annotate.words "Ada 😀 went to Paris."
    Assert.Equal<string[]>([| "Ada"; "😀"; "went"; "to"; "Paris"; "." |], words |> Array.map fst)
    Assert.Equal({ Start = 4; End = 6 }, snd words[1])

    for w, _ in Annotate.words "a😀b 𝐀x ☃ 🇫🇷!" do
        Assert.False(Char.IsLowSurrogate w[0], w)
        Assert.False(Char.IsHighSurrogate w[w.Length - 1], w)
