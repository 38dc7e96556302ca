/// Fuzzing of the file readers: byte mutations, truncations, deep nesting and long lines of the fixture files
/// either read or give an error naming the file and line; no other exception ever escapes.
module Masking.Tests.ReaderFuzzTests

open System
open System.IO
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open Masking.Tasks
open Masking.Taggers
open Masking.Tests.TestData

/// One change to a file's bytes, at a position given as a fraction of its length.
type Mutation =
    | Flip of at: float * bits: byte
    | Delete of at: float * count: int
    | Insert of at: float * bytes: byte[]
    | Truncate of at: float
    | Nest of at: float * depth: int
    | LongLine of at: float * length: int

type Case = { File: int; Mutations: Mutation list }

/// The readers and a fixture of each one's format.
let private readers: (string * (string -> obj)) list =
    [ "nq_open/NQ-open.dev.jsonl", (Readers.nqOpen >> box)
      "nq_open/topics.nq.dev.txt", (Readers.dprTopics >> box)
      "webquestions/val.json", (Readers.webQuestions >> box)
      "crossfit_format/wiqa_16_100_test.jsonl", (Readers.crossfit >> box)
      "ropes/dev-v1.0.json", (Readers.ropes >> box)
      "quartz_promptsource/validation-1000.json", (Readers.quartzPromptSource >> box)
      "kilt_samples/nq-dev-kilt.jsonl", (Readers.kilt >> box)
      "original_format_samples/quartz/train.jsonl", (Readers.quartz >> box)
      "original_format_samples/wiqa/dev.jsonl", (Readers.wiqa >> box)
      "original_format_samples/triviaqa_unfiltered/unfiltered-web-dev.json", (Readers.triviaqaUnfiltered >> box)
      "original_format_samples/webquestions/webquestions.examples.train.json.sample",
      (Readers.webQuestionsOriginal >> box)
      "ud_english_ewt/en_ewt-ud-dev.conllu", (fun p -> TaggedCorpora.conllu p false |> box)
      "conll2003/valid.txt", (TaggedCorpora.conllNer >> box) ]

type Generators =
    static member Case() : Arbitrary<Case> =
        let at = Gen.choose (0, 1000) |> Gen.map (fun i -> float i / 1000.0)

        let mutation =
            Gen.oneof
                [ Gen.map2 (fun a b -> Flip(a, byte b)) at (Gen.choose (1, 255))
                  Gen.map2 (fun a n -> Delete(a, n)) at (Gen.choose (1, 64))
                  Gen.map2
                      (fun a bs -> Insert(a, bs |> Array.map byte))
                      at
                      // Quotes, brackets, control characters, invalid UTF-8, NUL.
                      (Gen.arrayOf (Gen.elements [ 0; 9; 10; 13; 34; 44; 58; 91; 93; 123; 125; 128; 192; 255 ]))
                  Gen.map Truncate at
                  Gen.map2 (fun a d -> Nest(a, d)) at (Gen.elements [ 65; 1000; 50_000 ])
                  Gen.map2 (fun a n -> LongLine(a, n)) at (Gen.elements [ 10_000; 300_000 ]) ]

        Gen.map2
            (fun f ms -> { File = f; Mutations = ms })
            (Gen.choose (0, readers.Length - 1))
            (Gen.nonEmptyListOf mutation |> Gen.map (List.truncate 4))
        |> Arb.fromGen

let private apply (bytes: byte[]) (m: Mutation) =
    let pos (at: float) =
        int (at * float bytes.Length) |> min bytes.Length

    match m with
    | Flip(at, bits) when bytes.Length > 0 ->
        let copy = Array.copy bytes
        let i = min (pos at) (bytes.Length - 1)
        copy[i] <- copy[i] ^^^ bits
        copy
    | Flip _ -> bytes
    | Delete(at, n) ->
        let i = pos at
        Array.append bytes[.. i - 1] bytes[min bytes.Length (i + n) ..]
    | Insert(at, inserted) ->
        let i = pos at
        Array.concat [ bytes[.. i - 1]; inserted; bytes[i..] ]
    | Truncate at -> bytes[.. pos at - 1]
    | Nest(at, depth) ->
        let i = pos at
        Array.concat [ bytes[.. i - 1]; Array.create depth (byte '['); bytes[i..] ]
    | LongLine(at, n) ->
        let i = pos at
        Array.concat [ bytes[.. i - 1]; Array.create n (byte 'a'); bytes[i..] ]

[<Property(Arbitrary = [| typeof<Generators> |], MaxTest = 300, Replay = "(4242,1729)")>]
let ``mutated, truncated, deeply nested and long-lined files read or fail with file and line, never otherwise``
    (case: Case)
    =
    let relative, read = readers[case.File]
    let original = File.ReadAllBytes(fixture relative)
    let mutated = case.Mutations |> List.fold apply original

    let path =
        Path.Combine(
            Path.GetTempPath(),
            sprintf "masking-fuzz-%s%s" (Guid.NewGuid().ToString "N") (Path.GetExtension relative)
        )

    File.WriteAllBytes(path, mutated)

    try
        // attempt turns the readers' own failures into Error; anything else escaping fails the property.
        match TaskExample.attempt read path with
        | Ok _ -> true
        | Error e -> e.StartsWith(path + ":", StringComparison.Ordinal) && not (e.Contains '\n')
    finally
        File.Delete path

/// Files the program writes itself (vocabularies, tagger models), read back after damage: an Error, never a throw.
let private ownFiles: (string * (string -> bool)) list =
    let vocab =
        lazy
            (let path =
                Path.Combine(Path.GetTempPath(), sprintf "masking-fuzz-vocab-%s.json" (Guid.NewGuid().ToString "N"))

             Masking.Tokenizers.ByteBpeTrainer.train [ "the cat sat on the mat"; "a dog saw the cat" ] 400 4 1
             |> Masking.Tokenizers.ByteBpeModel.save path

             path)

    [ "vocab", (fun p -> Masking.Tokenizers.ByteBpeModel.load p |> Result.isOk)
      "pos.tagger", (fun p -> TaggerFile.load p |> Result.isOk) ]
    |> List.map (fun (name, load) ->
        (if name = "vocab" then
             vocab.Value
         else
             Path.Combine(repoRoot.Value, "models", name)),
        load)

[<Property(Arbitrary = [| typeof<Generators> |], MaxTest = 80, Replay = "(2718,3141)")>]
let ``damaged vocabularies and tagger models are errors, not exceptions`` (case: Case) =
    let original, load = ownFiles[case.File % ownFiles.Length]
    let mutated = case.Mutations |> List.fold apply (File.ReadAllBytes original)

    let path =
        Path.Combine(Path.GetTempPath(), sprintf "masking-fuzz-%s" (Guid.NewGuid().ToString "N"))

    File.WriteAllBytes(path, mutated)

    try
        load path |> ignore
        true
    finally
        File.Delete path
