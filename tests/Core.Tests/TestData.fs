module Masking.Tests.TestData

open System
open System.IO
open Xunit
open FsCheck
open FsCheck.FSharp
open Masking
open Masking.Policies

/// A small fake vocabulary: ids 0–4 are <s> <pad> </s> <unk> <mask>, 5–104 sentinels, the rest ordinary.
let specials = SpecialTokens.create 0 1 2 3 4 [| 5..104 |] [] 1000

/// The full datasets, when this machine has them: MASKING_DATA, else a `shared/data` folder above the test
/// binaries (a clone beside ../shared). A MASKING_DATA that names no folder is an error, not a skip.
let dataRootFound: string option =
    match Environment.GetEnvironmentVariable "MASKING_DATA" with
    | null
    | "" ->
        let rec up (d: DirectoryInfo) =
            if isNull d then
                None
            else
                let c = Path.Combine(d.FullName, "shared", "data")
                if Directory.Exists c then Some c else up d.Parent

        up (DirectoryInfo(AppContext.BaseDirectory))
    | d -> Some d

/// Why the full-data tests are skipped on a machine without the datasets.
let noDataRoot =
    "no data root: set MASKING_DATA, or place the datasets in ../shared/data beside the repository"

/// The shared data root (../shared/data beside the repository, or MASKING_DATA).
let dataRoot =
    lazy
        (match dataRootFound with
         | Some d -> d
         | None -> failwith noDataRoot)

/// A test of the full datasets (counts from their SOURCE.md files, tagger figures): skipped without them.
type DataFactAttribute() as this =
    inherit FactAttribute()

    do
        if dataRootFound.IsNone then
            this.Skip <- noDataRoot

/// A theory over the full datasets: skipped without them.
type DataTheoryAttribute() as this =
    inherit TheoryAttribute()

    do
        if dataRootFound.IsNone then
            this.Skip <- noDataRoot

/// The repository root (where Masking.sln is), for golden files.
let repoRoot =
    lazy
        (let rec up (d: DirectoryInfo) =
            if isNull d then
                failwith "Masking.sln not found above the test binaries"
            elif File.Exists(Path.Combine(d.FullName, "Masking.sln")) then
                d.FullName
            else
                up d.Parent

         up (DirectoryInfo(AppContext.BaseDirectory)))

/// Small excerpts of every format, laid out as the data root is (tests/fixtures/data, see its README).
let fixtureRoot = lazy (Path.Combine(repoRoot.Value, "tests", "fixtures", "data"))

/// A file of the fixtures, by its path under the data root.
let fixture (relative: string) =
    Path.Combine(fixtureRoot.Value, relative)

/// Builds a random example from a seed: ordinary tokens with a few specials, trailing padding, word starts,
/// sentences, non-overlapping annotations and scored candidate spans.
let exampleOfSeed (seed: int) (length: int) : Example =
    let rng = Rng(uint64 seed)

    let body =
        Array.init length (fun _ ->
            if rng.NextDouble() < 0.08 then
                rng.NextInt 5
            else
                105 + rng.NextInt 895)

    let pads = if rng.NextDouble() < 0.3 then rng.NextInt 8 else 0
    let tokens = Array.append body (Array.create pads specials.Pad)
    let n = tokens.Length
    let starts = Array.init n (fun i -> i = 0 || rng.NextDouble() < 0.6)

    let sentences =
        if n = 0 || rng.NextDouble() < 0.3 then
            [||]
        else
            let cuts =
                [| 0 |]
                |> Array.append (Array.init (rng.NextInt 4) (fun _ -> rng.NextInt n))
                |> Array.append [| n |]
                |> Array.distinct
                |> Array.sort

            Array.pairwise cuts |> Array.map (fun (a, b) -> { Start = a; End = b })

    let annotations =
        let result = ResizeArray<Annotation>()
        let mutable i = 0

        while i < n do
            if rng.NextDouble() < 0.15 then
                let len = 1 + rng.NextInt 4
                let e = min n (i + len)

                result.Add
                    { Span = { Start = i; End = e }
                      Label = (if rng.NextDouble() < 0.5 then "PER" else "DATE") }

                i <- e + 1
            else
                i <- i + 1

        result.ToArray()

    let scores =
        [| for _ in 1 .. (if n = 0 then 0 else rng.NextInt 10) do
               let s = rng.NextInt n
               let e = min n (s + 1 + rng.NextInt 5)

               { Span = { Start = s; End = e }
                 Score = rng.NextDouble() * 10.0 - 5.0 } |]

    { Tokens = tokens
      WordStarts = starts
      Sentences = sentences
      Annotations = annotations
      Scores = scores }

type RandomExample =
    { Seed: int
      Length: int }

    member r.Example = exampleOfSeed r.Seed r.Length

    override r.ToString() =
        sprintf "exampleOfSeed %d %d" r.Seed r.Length

type Generators =
    static member RandomExample() =
        gen {
            let! seed = Gen.choose (0, Int32.MaxValue)
            let! length = Gen.frequency [ 1, Gen.choose (0, 3); 4, Gen.choose (4, 160) ]
            return { Seed = seed; Length = length }
        }
        |> Arb.fromGen

/// A PMI vocabulary for the random examples: every pair of one-token words with ids 105–199, and a few triples.
let pmiVocabFile =
    lazy
        (let path =
            Path.Combine(Directory.CreateTempSubdirectory("masking-test-pmi-").FullName, "vocab.json")

         let entry (ids: int list) =
             sprintf "{\"words\":[%s]}" (ids |> List.map (sprintf "[%d]") |> String.concat ",")

         let ngrams =
             [ for a in 105..199 do
                   for b in 105..199 -> entry [ a; b ]
               for a in 105..120 -> entry [ a; a + 1; a + 2 ] ]

         File.WriteAllText(
             path,
             sprintf
                 "{\"format\":\"masking-pmi-vocab/1\",\"vocab_size\":%d,\"ngrams\":[\n%s\n]}\n"
                 specials.VocabSize
                 (String.concat ",\n" ngrams)
         )

         path)

/// Every named policy with its defaults, plus variants that exercise the other parts of the algebra.
let policySpecs =
    [ "orig"
      "rand"
      "ssm"
      "whole-word"
      "bart-infilling"
      "spanbert"
      "t5"
      "scored"
      "rand:unit=word"
      "rand:p=0.5,replace=corrupt"
      "rand:sampling=bernoulli"
      "orig:replace=delete"
      "rand:replace=token,target=full"
      "ssm:per_sentence=2,labels=DATE"
      "spanbert:unit=token,corrupt_per_span=0"
      "t5:noise_density=0.3,mean_noise_span_length=1"
      "bart-infilling:unit=word"
      "scored:budget=0.2,tau=0.5"
      "scored:k=2,tau=1"
      "rand:unit=entity"
      "loss-guided"
      "loss-guided:budget=0.3,tau=0.5,target=full"
      "pmi:vocab=" + pmiVocabFile.Value
      "pmi:vocab="
      + pmiVocabFile.Value
      + ",order=uniform,p=0.4,replace=sentinel,target=sentinels" ]

let resolve spec =
    match PolicySpec.resolve specials spec with
    | Ok p -> p
    | Error e -> failwithf "%s" e

let apply (p: Policy) seed ex = p.Apply (MaskContext.ofSeed seed) ex
