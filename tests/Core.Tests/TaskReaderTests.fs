/// Every task file reads without error: the full files in the data root with the counts their SOURCE.md
/// states (skipped without a data root), and the excerpts in tests/fixtures/data with theirs; malformed files
/// give "file:line: expected ..." errors.
module Masking.Tests.TaskReaderTests

open System
open System.IO
open Xunit
open Masking.Tasks
open Masking.Tests.TestData

let private path (relative: string) = Path.Combine(dataRoot.Value, relative)

let private count (reader: string -> TaskExample list) (file: string) =
    match TaskExample.attempt reader file with
    | Ok xs -> xs.Length
    | Error e -> failwith e

let private readerOf (format: string) =
    match format with
    | "nqOpen" -> Readers.nqOpen
    | "dpr" -> Readers.dprTopics
    | "wq" -> Readers.webQuestions
    | "wqOriginal" -> Readers.webQuestionsOriginal
    | "crossfit" -> Readers.crossfit
    | "ropes" -> Readers.ropes
    | "quartzPS" -> Readers.quartzPromptSource
    | "kilt" -> Readers.kilt
    | "quartz" -> Readers.quartz
    | "wiqa" -> Readers.wiqa
    | "tqaUnfiltered" -> Readers.triviaqaUnfiltered
    | f -> failwithf "unknown format %s" f

// The KILT samples hold 5 records each (SOURCE.md says 4 lines: the last record has no trailing newline).
[<DataTheory>]
[<InlineData("nq_open/NQ-open.dev.jsonl", "nqOpen", 3610)>]
[<InlineData("nq_open/NQ-open.efficientqa.dev.1.1.jsonl", "nqOpen", 1800)>]
[<InlineData("nq_open/topics.nq.dev.txt", "dpr", 8757)>]
[<InlineData("triviaqa_open/topics.dpr.trivia.dev.txt", "dpr", 8837)>]
[<InlineData("triviaqa_open/topics.dpr.trivia.test.txt", "dpr", 11313)>]
[<InlineData("webquestions/trainmodel.json", "wq", 2834)>]
[<InlineData("webquestions/val.json", "wq", 755)>]
[<InlineData("webquestions/devtest.json", "wq", 189)>]
[<InlineData("webquestions/test.json", "wq", 2032)>]
[<InlineData("webquestions/topics.dpr.wq.test.txt", "nqOpen", 2032)>]
[<InlineData("crossfit_format/kilt_nq_16_100_test.jsonl", "crossfit", 2837)>]
[<InlineData("crossfit_format/kilt_zsre_16_100_test.jsonl", "crossfit", 3724)>]
[<InlineData("crossfit_format/quartz-with_knowledge_16_100_test.jsonl", "crossfit", 384)>]
[<InlineData("crossfit_format/quartz-no_knowledge_16_100_test.jsonl", "crossfit", 384)>]
[<InlineData("crossfit_format/wiqa_16_100_test.jsonl", "crossfit", 6894)>]
[<InlineData("crossfit_format/web_questions_16_100_test.jsonl", "crossfit", 756)>]
[<InlineData("crossfit_format/kilt_ay2_16_100_train.jsonl", "crossfit", 16)>]
[<InlineData("crossfit_format/kilt_ay2_16_100_dev.jsonl", "crossfit", 16)>]
[<InlineData("ropes/train-v1.0.json", "ropes", 10924)>]
[<InlineData("ropes/dev-v1.0.json", "ropes", 1688)>]
[<InlineData("quartz_promptsource/upstream-5000.json", "quartzPS", 5000)>]
[<InlineData("quartz_promptsource/validation-1000.json", "quartzPS", 1000)>]
[<InlineData("kilt_samples/nq-dev-kilt.jsonl", "kilt", 5)>]
[<InlineData("kilt_samples/nq-train-kilt.jsonl", "kilt", 5)>]
[<InlineData("kilt_samples/triviaqa-dev_id-kilt.jsonl", "kilt", 5)>]
[<InlineData("kilt_samples/triviaqa-train_id-kilt.jsonl", "kilt", 5)>]
[<InlineData("kilt_samples/aidayago2-dev-kilt.jsonl", "kilt", 5)>]
[<InlineData("kilt_samples/aidayago2-train-kilt.jsonl", "kilt", 5)>]
[<InlineData("kilt_samples/structured_zeroshot-dev-kilt.jsonl", "kilt", 5)>]
[<InlineData("kilt_samples/structured_zeroshot-train-kilt.jsonl", "kilt", 5)>]
[<InlineData("kilt_samples/wow-dev-kilt.jsonl", "kilt", 5)>]
[<InlineData("kilt_samples/wow-train-kilt.jsonl", "kilt", 5)>]
[<InlineData("original_format_samples/quartz/train.jsonl", "quartz", 2)>]
[<InlineData("original_format_samples/quartz/dev.jsonl", "quartz", 2)>]
[<InlineData("original_format_samples/quartz/test.jsonl", "quartz", 2)>]
[<InlineData("original_format_samples/wiqa/train.jsonl", "wiqa", 2)>]
[<InlineData("original_format_samples/wiqa/dev.jsonl", "wiqa", 2)>]
[<InlineData("original_format_samples/wiqa/test.jsonl", "wiqa", 2)>]
[<InlineData("original_format_samples/triviaqa_unfiltered/unfiltered-web-dev.json", "tqaUnfiltered", 3)>]
[<InlineData("original_format_samples/triviaqa_unfiltered/unfiltered-web-train.json", "tqaUnfiltered", 3)>]
[<InlineData("original_format_samples/webquestions/webquestions.examples.train.json.sample", "wqOriginal", 2)>]
[<InlineData("original_format_samples/webquestions/webquestions.examples.test.json.sample", "wqOriginal", 1)>]
let ``every shipped task file reads with its stated count`` (relative: string, format: string, expected: int) =
    Assert.Equal(expected, count (readerOf format) (path relative))

// The fixtures' excerpts (tests/fixtures/data/*/SOURCE.md says which records), with the awkward cases of the
// full files: quoted DPR answer lists, unicode and emoji, an answer that normalises to nothing.
[<Theory>]
[<InlineData("nq_open/NQ-open.dev.jsonl", "nqOpen", 41)>]
[<InlineData("nq_open/NQ-open.efficientqa.dev.1.1.jsonl", "nqOpen", 20)>]
[<InlineData("nq_open/topics.nq.dev.txt", "dpr", 102)>]
[<InlineData("triviaqa_open/topics.dpr.trivia.dev.txt", "dpr", 30)>]
[<InlineData("triviaqa_open/topics.dpr.trivia.test.txt", "dpr", 12)>]
[<InlineData("webquestions/trainmodel.json", "wq", 40)>]
[<InlineData("webquestions/val.json", "wq", 15)>]
[<InlineData("webquestions/devtest.json", "wq", 10)>]
[<InlineData("webquestions/test.json", "wq", 30)>]
[<InlineData("webquestions/topics.dpr.wq.test.txt", "nqOpen", 30)>]
[<InlineData("crossfit_format/kilt_nq_16_100_test.jsonl", "crossfit", 40)>]
[<InlineData("crossfit_format/kilt_zsre_16_100_test.jsonl", "crossfit", 100)>]
[<InlineData("crossfit_format/quartz-with_knowledge_16_100_test.jsonl", "crossfit", 40)>]
[<InlineData("crossfit_format/quartz-no_knowledge_16_100_test.jsonl", "crossfit", 40)>]
[<InlineData("crossfit_format/wiqa_16_100_test.jsonl", "crossfit", 80)>]
[<InlineData("crossfit_format/web_questions_16_100_test.jsonl", "crossfit", 40)>]
[<InlineData("crossfit_format/kilt_ay2_16_100_train.jsonl", "crossfit", 16)>]
[<InlineData("crossfit_format/kilt_ay2_16_100_dev.jsonl", "crossfit", 16)>]
[<InlineData("ropes/train-v1.0.json", "ropes", 82)>]
[<InlineData("ropes/dev-v1.0.json", "ropes", 20)>]
[<InlineData("quartz_promptsource/upstream-5000.json", "quartzPS", 40)>]
[<InlineData("quartz_promptsource/validation-1000.json", "quartzPS", 20)>]
[<InlineData("kilt_samples/nq-dev-kilt.jsonl", "kilt", 5)>]
[<InlineData("kilt_samples/triviaqa-dev_id-kilt.jsonl", "kilt", 5)>]
[<InlineData("kilt_samples/aidayago2-dev-kilt.jsonl", "kilt", 5)>]
[<InlineData("kilt_samples/aidayago2-train-kilt.jsonl", "kilt", 5)>]
[<InlineData("kilt_samples/structured_zeroshot-dev-kilt.jsonl", "kilt", 5)>]
[<InlineData("kilt_samples/wow-dev-kilt.jsonl", "kilt", 5)>]
[<InlineData("kilt_samples/wow-train-kilt.jsonl", "kilt", 5)>]
[<InlineData("original_format_samples/quartz/train.jsonl", "quartz", 2)>]
[<InlineData("original_format_samples/wiqa/dev.jsonl", "wiqa", 2)>]
[<InlineData("original_format_samples/triviaqa_unfiltered/unfiltered-web-dev.json", "tqaUnfiltered", 3)>]
[<InlineData("original_format_samples/webquestions/webquestions.examples.train.json.sample", "wqOriginal", 2)>]
let ``every fixture file reads with its count`` (relative: string, format: string, expected: int) =
    Assert.Equal(expected, count (readerOf format) (fixture relative))

[<Fact>]
let ``the fixtures keep the awkward cases: quoted answer lists, emoji, an answer that normalises to nothing`` () =
    let nq = Readers.dprTopics (fixture "nq_open/topics.nq.dev.txt")
    Assert.Contains(nq, fun e -> e.Targets |> List.exists (fun t -> t.Contains "\"" || t.Contains "'"))
    let nqTest = Readers.nqOpen (fixture "nq_open/NQ-open.dev.jsonl")
    Assert.Contains(nqTest, fun e -> e.Targets |> List.exists (fun t -> Masking.Metrics.Answers.normalize t = ""))
    let tqa = Readers.dprTopics (fixture "triviaqa_open/topics.dpr.trivia.dev.txt")
    Assert.Contains(tqa, fun e -> (e.Source + String.concat "" e.Targets) |> Seq.exists Char.IsSurrogate)

[<DataFact>]
let ``AY2 is rebuilt from CoNLL-2003 and AIDA-YAGO with the linked mention counts`` () =
    let ay2 = Registry.find "ay2" |> Result.defaultWith failwith

    let counts =
        [ Train; Dev; Test ]
        |> List.map (fun s -> (ay2.Load dataRoot.Value s |> Result.defaultWith failwith).Length)

    Assert.Equal<int list>([ 18541; 4791; 4485 ], counts)
    let first = (ay2.Load dataRoot.Value Dev |> Result.defaultWith failwith).Head
    Assert.StartsWith("CRICKET - [START_ENT] LEICESTERSHIRE [END_ENT] TAKE OVER AT TOP", first.Source)
    Assert.Equal<string list>([ "Leicestershire County Cricket Club" ], first.Targets)
    // AIDA-YAGO's Java escapes are decoded, as KILT's titles have them.
    let all = (ay2.Load dataRoot.Value Train |> Result.defaultWith failwith)
    Assert.DoesNotContain(all, fun e -> e.Targets |> List.exists (fun t -> t.Contains "\\u00"))
    Assert.Contains(all, fun e -> e.Targets = [ "People's Republic of China" ])

[<Fact>]
let ``AY2 is rebuilt from the fixtures' synthetic CoNLL-2003 and AIDA-YAGO files`` () =
    let ay2 = Registry.find "ay2" |> Result.defaultWith failwith

    let counts =
        [ Train; Dev; Test ]
        |> List.map (fun s -> (ay2.Load fixtureRoot.Value s |> Result.defaultWith failwith).Length)

    Assert.Equal<int list>([ 51; 47; 31 ], counts)
    let first = (ay2.Load fixtureRoot.Value Dev |> Result.defaultWith failwith).Head
    Assert.StartsWith("TENNIS - [START_ENT] QUILLAN [END_ENT] REACHES VELSBURG OPEN", first.Source)
    Assert.Equal<string list>([ "Rosa Quillan" ], first.Targets)

let private everyTaskLoads (root: string) =
    Assert.Equal<string list>(
        [ "tqa"; "nq"; "wq"; "ay2"; "zsre"; "wow"; "wiqa"; "quartz"; "ropes" ],
        Registry.paper |> List.map (fun t -> t.Name)
    )

    for task in Registry.all do
        for split in [ Train; Dev; Test ] do
            match task.Load root split with
            | Ok xs ->
                Assert.NotEmpty xs
                Assert.All(xs, fun x -> Assert.NotEmpty x.Targets)
            | Error e -> failwithf "%s %A: %s" task.Name split e

    for name in [ "wiqa"; "ropes"; "ay2" ] do
        let task = Registry.find name |> Result.defaultWith failwith
        let xs = task.Load root Dev |> Result.defaultWith failwith
        Assert.All(xs, fun x -> Assert.True(x.Context.IsSome && x.Context.Value.Length > 10, name))

[<DataFact>]
let ``all nine tasks load every split, context tasks with their paragraphs`` () = everyTaskLoads dataRoot.Value

[<Fact>]
let ``all nine tasks load every split of the fixtures, context tasks with their paragraphs`` () =
    everyTaskLoads fixtureRoot.Value

[<Fact>]
let ``original formats cast to text-to-text as CrossFit does`` () =
    let wiqa =
        Readers.wiqa (fixture "original_format_samples/wiqa/train.jsonl") |> List.head

    Assert.StartsWith("suppose there will be fewer new trees happens", wiqa.Source)
    Assert.Contains("(A) more (B) less (C) no effect [SEP] A tree produces seeds", wiqa.Source)
    Assert.Equal<string list>([ "more"; "less"; "no effect" ], wiqa.Options)

    let wq =
        Readers.webQuestionsOriginal (
            fixture "original_format_samples/webquestions/webquestions.examples.train.json.sample"
        )

    Assert.Equal<string list>([ "Jamaican Creole English Language"; "Jamaican English" ], wq.Head.Targets)
    Assert.Equal<string list>([ "Mobile" ], wq[1].Targets)

[<Fact>]
let ``Python string lists parse with both quote styles and escapes`` () =
    Assert.Equal<string list>(
        [ "a"; "b's"; "c\"d"; "e'f"; "" ],
        Readers.pythonStringList "f" 1 """['a', "b's", 'c"d', 'e\'f', '']"""
    )

let private malformed (content: string) =
    let file =
        Path.Combine(Path.GetTempPath(), sprintf "masking-%s.jsonl" (Guid.NewGuid().ToString "N"))

    File.WriteAllText(file, content)

    try
        file, TaskExample.attempt Readers.nqOpen file
    finally
        File.Delete file

[<Theory>]
[<InlineData("{\"question\": \"q\", \"answer\": [\"a\"]}\n{\"question\": \"q2\", \"answer\": [\"a\"",
             2,
             "expected ',' or ']' in a JSON array")>]
[<InlineData("{\"question\": \"q\", \"answer\": [\"a\"]}\n\n{\"answer\": [\"a\"]}\n", 3, "expected a field \"question\"")>]
[<InlineData("{\"question\": 7, \"answer\": [\"a\"]}\n", 1, "expected \"question\" as a string, found a number")>]
[<InlineData("{\"question\": \"q\", \"answer\": \"a\"}\n", 1, "expected \"answer\" as an array, found a string")>]
[<InlineData("{\"question\": \"q\", \"answer\": []}\n", 1, "expected at least one answer")>]
[<InlineData("", 1, "the file is empty")>]
[<InlineData("\u0000\u0001binary\u0002", 1, "found a NUL byte")>]
[<InlineData("[1, 2]\n", 1, "expected an object with a field \"question\", found an array")>]
let ``malformed input gives file:line and what was expected`` (content: string, line: int, expected: string) =
    let file, result = malformed content

    match result with
    | Ok _ -> failwith "should not read"
    | Error e ->
        Assert.StartsWith(sprintf "%s:%d: " file line, e)
        Assert.Contains(expected, e)
        Assert.DoesNotContain("\n", e)

[<Fact>]
let ``invalid UTF-8 names its line`` () =
    let file =
        Path.Combine(Path.GetTempPath(), sprintf "masking-%s.jsonl" (Guid.NewGuid().ToString "N"))

    File.WriteAllBytes(
        file,
        Array.append
            (Text.Encoding.UTF8.GetBytes "{\"question\": \"q\", \"answer\": [\"a\"]}\n")
            [| 0xC3uy; 0x28uy; 10uy |]
    )

    let result = TaskExample.attempt Readers.nqOpen file
    File.Delete file
    Assert.Equal(Error(sprintf "%s:2: expected UTF-8 text" file), result)

[<Fact>]
let ``a missing file is an error, not an exception`` () =
    match TaskExample.attempt Readers.ropes "/nonexistent/ropes.json" with
    | Error e -> Assert.Equal("/nonexistent/ropes.json:0: expected a readable file", e)
    | Ok _ -> failwith "should not read"

let private reproducesKilt (root: string) (sample: string) (split: string) =
    let ay2 = Registry.find "ay2" |> Result.defaultWith failwith

    let ours =
        ay2.Load root (Split.parse split |> Result.defaultWith failwith)
        |> Result.defaultWith failwith

    let bySource = ours |> List.groupBy (fun e -> e.Source) |> Map.ofList

    for k in Readers.kilt (Path.Combine(root, sample)) do
        match bySource.TryFind k.Source with
        | None -> failwithf "KILT record %s is not among ours" k.Id
        | Some matches -> Assert.Contains(matches, fun m -> m.Targets = k.Targets)

[<DataTheory>]
[<InlineData("kilt_samples/aidayago2-train-kilt.jsonl", "train")>]
[<InlineData("kilt_samples/aidayago2-dev-kilt.jsonl", "dev")>]
let ``the rebuilt AY2 reproduces KILT's own records exactly`` (sample: string, split: string) =
    reproducesKilt dataRoot.Value sample split

[<Theory>]
[<InlineData("kilt_samples/aidayago2-train-kilt.jsonl", "train")>]
[<InlineData("kilt_samples/aidayago2-dev-kilt.jsonl", "dev")>]
let ``the AY2 rebuilt from the fixtures reproduces their KILT-format records`` (sample: string, split: string) =
    reproducesKilt fixtureRoot.Value sample split
