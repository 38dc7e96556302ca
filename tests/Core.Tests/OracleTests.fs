/// The oracle arm: the answers the evaluation asks for, where the world states them, and only the oracle sees them.
module Masking.Tests.OracleTests

open Xunit
open Masking
open Masking.Policies
open Masking.Text
open Masking.Tokenizers
open Masking.World
open Masking.Tasks

let private world = lazy (WorldTasks.build WorldConfig.defaults)
let private gpt2 = lazy (Gpt2Tokenizer.Embedded() :> ITokenizer)

/// A target-corpus passage as the intermediate stage sees it (as Corpora.FromPassage builds it).
let private example (p: Passage) (withAsked: bool) =
    let e = gpt2.Value.Encode p.Text

    let spans =
        if withAsked then
            Array.append p.Spans (WorldTasks.askedSpans world.Value p)
        else
            p.Spans

    { Example.ofEncoded e with
        Sentences = Sentences.toTokenSpans e.Offsets p.Sentences
        Annotations = Sentences.toAnnotations e.Offsets spans }

let private policy spec =
    PolicySpec.resolve gpt2.Value.Specials spec |> Result.defaultWith failwith

let private passagesOf (subjects: Set<int>) =
    world.Value.TargetCorpus |> Array.filter (fun p -> subjects.Contains p.Entity)

[<Fact>]
let ``the asked spans are each test sentence's object, and hold every test answer of closed-book QA`` () =
    let w = world.Value

    for p in passagesOf w.TestSubjects do
        let asked = WorldTasks.askedSpans w p
        Assert.Equal(p.Sentences.Length, asked.Length)

        Array.zip p.Sentences asked
        |> Array.iter (fun (sentence, (span, label)) ->
            Assert.Equal(Annotation.askedTest, label)
            Assert.True(sentence.Start <= span.Start && span.End <= sentence.End))

    let askedTexts =
        set
            [ for p in passagesOf w.TestSubjects do
                  for span, _ in WorldTasks.askedSpans w p -> p.Text.Substring(span.Start, span.Length) ]

    for e in WorldTasks.closedBook w Test do
        Assert.Contains(e.Targets.Head, askedTexts)

    Assert.All(
        passagesOf w.DevSubjects,
        fun p -> Assert.All(WorldTasks.askedSpans w p, fun (_, l) -> Assert.Equal(Annotation.askedDev, l))
    )

    Assert.All(passagesOf w.TrainSubjects, fun p -> Assert.Empty(WorldTasks.askedSpans w p))

[<Fact>]
let ``oracle masks the asked object of every sentence of a test passage, and nothing elsewhere`` () =
    let w = world.Value
    let oracle = policy "oracle"

    for p in passagesOf w.TestSubjects |> Array.truncate 40 do
        let ex = example p true
        let m = oracle.Apply (MaskContext.ofSeed 3UL) ex

        let asked =
            ex.Annotations
            |> Array.filter (fun a -> a.Label = Annotation.askedTest)
            |> Array.map (fun a -> a.Span)

        Assert.Equal<Span[]>(Span.normalize asked, m.Spans)

    for p in passagesOf w.TrainSubjects |> Array.truncate 40 do
        Assert.Empty((oracle.Apply (MaskContext.ofSeed 3UL) (example p true)).Spans)

[<Fact>]
let ``no other policy sees the asked spans: ssm, entity units and a scorer's snapping mask as without them`` () =
    let w = world.Value

    for p in passagesOf w.TestSubjects |> Array.truncate 40 do
        for spec in [ "ssm"; "rand:unit=entity"; "ssm:per_sentence=3" ] do
            let apply withAsked =
                (policy spec).Apply (MaskContext.ofSeed 5UL) (example p withAsked)

            Assert.Equal(apply false, apply true)

        let ex = example p true

        let snapped =
            ScoredSpan.snapToUnits ex.WordStarts ex.Annotations [| { Span = Span.create 0 1; Score = 1.0 } |]

        Assert.Equal<ScoredSpan[]>(
            ScoredSpan.snapToUnits
                ex.WordStarts
                (example p false).Annotations
                [| { Span = Span.create 0 1; Score = 1.0 } |],
            snapped
        )

[<Fact>]
let ``within can name the asked spans explicitly`` () =
    let p = (passagesOf world.Value.TestSubjects)[0]
    let ex = example p true
    let m = (policy "within(rand:p=1,ASKED_TEST)").Apply (MaskContext.ofSeed 1UL) ex
    Assert.Equal(p.Sentences.Length, m.Spans.Length)
