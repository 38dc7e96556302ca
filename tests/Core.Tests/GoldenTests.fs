/// Masks of every named policy on fixed texts and seeds, compared with reviewed files in golden/masks.
module Masking.Tests.GoldenTests

open System
open System.IO
open System.Text.Encodings.Web
open System.Text.Json
open Xunit
open Masking
open Masking.Policies
open Masking.Tokenizers
open Masking.Text
open Masking.World
open Masking.Tests.TestData

let private regenerate =
    Environment.GetEnvironmentVariable "MASKING_REGENERATE_GOLDEN" = "1"

let private tokenizer = lazy (Gpt2Tokenizer.Embedded() :> ITokenizer)

let private goldenPath (parts: string list) =
    Path.Combine(Array.ofList (repoRoot.Value :: "golden" :: parts))

/// The vocabulary the pmi golden masks use: `masking pmi-vocab --corpus tests/fixtures/data/wikitext2/wiki.valid.raw
/// --min-count 3 --size 100`, itself a golden file (the masks use the one built here, so either can be regenerated
/// first).
let private pmiVocabulary =
    lazy
        (let options =
            { PmiOptions.Defaults with
                MinCount = 3
                Size = 100 }

         let entries, words =
             PmiVocabulary.build tokenizer.Value options (File.ReadLines(fixture "wikitext2/wiki.valid.raw"))

         let path =
             Path.Combine(Directory.CreateTempSubdirectory("masking-golden-pmi-").FullName, "wiki.valid.json")

         PmiVocabulary.write path tokenizer.Value options words entries
         path)

/// The oracle masks only in the generated world: two passages of the default world's target corpus, the first
/// about a test subject (its answers masked), the second about a train subject (nothing masked).
let private oracleExamples =
    lazy
        (let w = WorldTasks.build WorldConfig.defaults

         let first (subjects: Set<int>) =
             w.TargetCorpus |> Array.find (fun p -> subjects.Contains p.Entity)

         [| first w.TestSubjects; first w.TrainSubjects |]
         |> Array.map (fun p ->
             let e = tokenizer.Value.Encode p.Text

             { Example.ofEncoded e with
                 Sentences = Sentences.toTokenSpans e.Offsets p.Sentences
                 Annotations = Sentences.toAnnotations e.Offsets (Array.append p.Spans (WorldTasks.askedSpans w p)) }))

let private render (policyName: string) =
    let tok = tokenizer.Value

    // pmi needs a vocabulary, and texts that hold its collocations.
    let spec, extraTexts =
        if policyName = "pmi" then
            sprintf "pmi:vocab=%s" pmiVocabulary.Value, File.ReadAllLines(goldenPath [ "pmi"; "texts.txt" ])
        else
            policyName, [||]

    let policy = PolicySpec.resolve tok.Specials spec |> Result.defaultWith failwith

    let texts = Array.append (File.ReadAllLines(goldenPath [ "texts.txt" ])) extraTexts

    let options =
        JsonSerializerOptions(Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping)

    let lines = Text.StringBuilder()

    // Every salient span is a candidate for `scored`, scored by its length. loss-guided scores words (the
    // training stage gives each word its mean token loss); a fixed stand-in keeps the golden file model-free:
    // a word's token count, then its first token id, so that ties are rare.
    let withScores (ex: Example) =
        if policyName = "loss-guided" then
            { ex with
                Scores =
                    Units.words tok.Specials ex
                    |> Array.map (fun w ->
                        { Span = w
                          Score = float w.Length + float (ex.Tokens[w.Start] % 1000) / 1000.0 }) }
        else
            { ex with
                Scores =
                    ex.Annotations
                    |> Array.map (fun a ->
                        { Span = a.Span
                          Score = float a.Span.Length }) }

    let examples =
        Array.append
            (texts |> Array.map (SalientSpans.annotate tok >> withScores))
            (if policyName = "oracle" then oracleExamples.Value else [||])

    examples
    |> Array.iteri (fun i ex ->

        for seed in 0UL .. 2UL do
            let m = policy.Apply (MaskContext.ofSeed (Seeds.derive seed 0 (int64 i))) ex

            let row =
                {| text = i
                   seed = seed
                   source = tok.Decode m.Source
                   target = tok.Decode m.Target
                   spans = m.Spans |> Array.map (fun s -> [| s.Start; s.End |]) |}

            lines.Append(JsonSerializer.Serialize(row, options)).Append('\n') |> ignore)

    lines.ToString()

let policyNames: obj[] seq = Named.names |> Seq.map (fun n -> [| box n |])

let private compareWithGolden (path: string) (actual: string) =
    if regenerate then
        File.WriteAllText(path, actual)
    elif not (File.Exists path) then
        failwithf "%s is missing; regenerate with MASKING_REGENERATE_GOLDEN=1 (see golden/README.md) and review it" path
    else
        let expected = File.ReadAllText path

        let firstDifference =
            Seq.zip (expected.Split '\n') (actual.Split '\n')
            |> Seq.tryFindIndex (fun (a, b) -> a <> b)

        match firstDifference with
        | None when expected = actual -> ()
        | None -> failwithf "%s: line count differs from the golden file" path
        | Some line ->
            let golden, current = expected.Split '\n', actual.Split '\n'
            failwithf "%s:%d differs\n  golden: %s\n  actual: %s" path (line + 1) golden[line] current[line]

[<Fact>]
let ``golden PMI vocabulary`` () =
    compareWithGolden (goldenPath [ "pmi"; "wiki.valid.json" ]) (File.ReadAllText pmiVocabulary.Value)

[<Theory>]
[<MemberData(nameof policyNames)>]
let ``golden masks`` (policyName: string) =
    compareWithGolden (goldenPath [ "masks"; policyName + ".jsonl" ]) (render policyName)
