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
open Masking.Tests.TestData

let private regenerate =
    Environment.GetEnvironmentVariable "MASKING_REGENERATE_GOLDEN" = "1"

let private tokenizer = lazy (Gpt2Tokenizer.Embedded() :> ITokenizer)

let private render (policyName: string) =
    let tok = tokenizer.Value

    let policy =
        PolicySpec.resolve tok.Specials policyName |> Result.defaultWith failwith

    let texts = File.ReadAllLines(Path.Combine(repoRoot.Value, "golden", "texts.txt"))

    let options =
        JsonSerializerOptions(Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping)

    let lines = Text.StringBuilder()

    texts
    |> Array.iteri (fun i text ->
        let annotated = SalientSpans.annotate tok text
        // The learned scorer lands later; here every salient span is a candidate scored by its length.
        let ex =
            { annotated with
                Scores =
                    annotated.Annotations
                    |> Array.map (fun a ->
                        { Span = a.Span
                          Score = float a.Span.Length }) }

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

[<Theory>]
[<MemberData(nameof policyNames)>]
let ``golden masks`` (policyName: string) =
    let path = Path.Combine(repoRoot.Value, "golden", "masks", policyName + ".jsonl")
    let actual = render policyName

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
