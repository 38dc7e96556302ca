module Masking.Tests.MetricTests

open System.IO
open System.Text.Json
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open Masking.Metrics
open Masking.Tests.TestData

type AnswerCase =
    { case: string
      prediction: string
      golds: string[]
      em: float
      f1: float
      normalized: string }

let private cases =
    File.ReadAllLines(Path.Combine(repoRoot.Value, "golden", "metrics", "answer-cases.jsonl"))
    |> Array.map (fun l -> JsonSerializer.Deserialize<AnswerCase> l)

let caseNames: obj[] seq = cases |> Seq.map (fun c -> [| box c.case |])

[<Theory>]
[<MemberData(nameof caseNames)>]
let ``scores agree with the official definitions on golden cases`` (name: string) =
    let c = cases |> Array.find (fun c -> c.case = name)
    Assert.Equal(c.normalized, Answers.normalize c.prediction)
    Assert.Equal(c.em, Answers.bestOver Answers.exactMatch c.prediction c.golds, 6)
    Assert.Equal(c.f1, Answers.bestOver Answers.f1 c.prediction c.golds, 6)

type Strings =
    static member Answers() =
        let words =
            [ "the"
              "a"
              "an"
              "Paris"
              "paris"
              "cat"
              "Cat!"
              "1,000"
              "Zürich"
              "-"
              "New"
              "York"
              ""
              "  "
              "é" ]

        Gen.elements words |> Gen.listOf |> Gen.map (String.concat " ") |> Arb.fromGen

[<Property(Arbitrary = [| typeof<Strings> |])>]
let ``EM is never above F1`` (prediction: string) (gold: string) =
    Answers.exactMatch prediction gold <= Answers.f1 prediction gold

[<Property(Arbitrary = [| typeof<Strings> |])>]
let ``normalisation is idempotent`` (s: string) =
    Answers.normalize (Answers.normalize s) = Answers.normalize s

[<Property(Arbitrary = [| typeof<Strings> |])>]
let ``scores lie in [0, 1]`` (prediction: string) (gold: string) =
    [ Answers.exactMatch
      Answers.f1
      Answers.strictAccuracy
      Answers.choiceAccuracy
      Answers.rougeL ]
    |> List.forall (fun f ->
        let x = f prediction gold
        x >= 0.0 && x <= 1.0 + 1e-9)

[<Property(Arbitrary = [| typeof<Strings> |])>]
let ``the order of gold answers does not matter`` (prediction: string) (golds: string list) =
    [ ExactMatch; TokenF1; StrictAccuracy; RougeL ]
    |> List.forall (fun m -> Metric.scoreOne m prediction golds = Metric.scoreOne m prediction (List.rev golds))

[<Fact>]
let ``strict accuracy is KILT's unnormalised equality`` () =
    Assert.Equal(1.0, Answers.strictAccuracy "Germany" "Germany")
    Assert.Equal(0.0, Answers.strictAccuracy "germany" "Germany")
    Assert.Equal(1.0, Answers.choiceAccuracy " More " "more")

[<Fact>]
let ``ROUGE-L on hand-computed cases`` () =
    Assert.Equal(1.0, Answers.rougeL "the cat sat" "the cat sat", 6)
    Assert.Equal(0.0, Answers.rougeL "" "the cat", 6)
    // LCS("the cat sat on", "the dog sat") = 2: P = 2/4, R = 2/3, β = P/R = 0.75.
    let p, r = 0.5, 2.0 / 3.0
    let beta = p / r
    Assert.Equal((1.0 + beta * beta) * r * p / (r + beta * beta * p), Answers.rougeL "the cat sat on" "the dog sat", 6)

[<Fact>]
let ``mean, sample std and Welch's test`` () =
    let s = Statistics.summarize [ 1.0; 2.0; 3.0; 4.0 ]
    Assert.Equal(2.5, s.Mean, 12)
    Assert.Equal(sqrt (5.0 / 3.0), s.Std, 12)
    Assert.Equal(0.0, (Statistics.summarize [ 7.0 ]).Std)
    // Two clearly separated arms: p tiny; identical arms: p = 1.
    let c =
        Statistics.welch [ 10.0; 10.5; 9.5; 10.2 ] [ 1.0; 1.5; 0.5; 1.2 ]
        |> Result.defaultWith failwith

    Assert.True(c.PValue < 1e-5)

    let same =
        Statistics.welch [ 1.0; 2.0; 3.0 ] [ 1.0; 2.0; 3.0 ]
        |> Result.defaultWith failwith

    Assert.Equal(1.0, same.PValue, 9)
    // t = -2/sqrt(2/3) with df = 4; the two-sided p (0.070484) was integrated numerically from the t density.
    let t =
        Statistics.welch [ 1.0; 2.0; 3.0 ] [ 3.0; 4.0; 5.0 ]
        |> Result.defaultWith failwith

    Assert.Equal(-2.449489742783178, t.T, 9)
    Assert.Equal(4.0, t.DegreesOfFreedom, 9)
    Assert.Equal(0.070484, t.PValue, 5)
    Assert.True((Statistics.welch [ 1.0 ] [ 2.0; 3.0 ]).IsError)
    // No variance in either arm: no p = 0 for a difference the test cannot weigh.
    Assert.True((Statistics.welch [ 0.032; 0.032; 0.032 ] [ 0.022; 0.022; 0.022 ]).IsError)
    Assert.Equal(1.0, (Statistics.welch [ 0.5; 0.5 ] [ 0.5; 0.5 ] |> Result.defaultWith failwith).PValue)

/// Scores of 3 seeds on 100 questions: each question right (1) or wrong (0), from a seeded generator.
let private arm (seed: uint64) (rate: float) =
    let rng = Masking.Rng(seed)
    Array.init 3 (fun _ -> Array.init 100 (fun _ -> if rng.NextDouble() < rate then 1.0 else 0.0))

[<Fact>]
let ``the paired bootstrap finds a real difference and none between equal arms`` () =
    let strong, weak = arm 1UL 0.8, arm 2UL 0.3

    let c = PairedBootstrap.compare 7UL 2000 strong weak |> Result.defaultWith failwith

    Assert.InRange(c.Difference, 0.4, 0.6)
    Assert.True(c.Low > 0.3 && c.High < 0.7 && c.Low < c.Difference && c.Difference < c.High, sprintf "%A" c)
    Assert.True(c.PValue < 0.01)
    Assert.Equal((3, 100, 2000), (c.Seeds, c.Questions, c.Resamples))
    // The same arm against itself: every resample is 0, so the interval is [0, 0] and p = 1.
    let same =
        PairedBootstrap.compare 7UL 500 strong strong |> Result.defaultWith failwith

    Assert.Equal((0.0, 0.0, 0.0, 1.0), (same.Difference, same.Low, same.High, same.PValue))
    // Two draws of the same rate: the interval holds 0 and nothing is claimed.
    let other =
        PairedBootstrap.compare 7UL 2000 (arm 3UL 0.5) (arm 4UL 0.5)
        |> Result.defaultWith failwith

    Assert.True(other.Low <= 0.0 && other.High >= 0.0 && other.PValue > 0.05, sprintf "%A" other)
    // Deterministic in its seed.
    Assert.Equal(c, PairedBootstrap.compare 7UL 2000 strong weak |> Result.defaultWith failwith)

[<Fact>]
let ``one question's difference in every seed is not a finding`` () =
    // The demo's old case: 3.2 ± 0.0 against 2.2 ± 0.0 on 93 questions, one question apart in every seed.
    let a = Array.init 3 (fun _ -> Array.init 93 (fun q -> if q < 3 then 1.0 else 0.0))
    let b = Array.init 3 (fun _ -> Array.init 93 (fun q -> if q < 2 then 1.0 else 0.0))
    let c = PairedBootstrap.compare 11UL 2000 a b |> Result.defaultWith failwith
    Assert.True(c.PValue > 0.5 && c.Low <= 0.0, sprintf "%A" c)
    Assert.True((PairedBootstrap.compare 11UL 10 a [||]).IsError)
    Assert.True((PairedBootstrap.compare 11UL 10 a [| [| 1.0 |] |]).IsError)

[<Fact>]
let ``Holm's adjustment multiplies the k-th smallest p by m - k + 1 and stays monotone`` () =
    let adjusted = PairedBootstrap.holm [| 0.01; 0.04; 0.03; 0.005 |]
    // Sorted: 0.005×4 = 0.02, 0.01×3 = 0.03, 0.03×2 = 0.06, 0.04×1 = 0.04 → monotone 0.06.
    Assert.Equal<float[]>([| 0.03; 0.06; 0.06; 0.02 |], adjusted |> Array.map (fun p -> System.Math.Round(p, 12)))
    Assert.Equal<float[]>([| 0.7 |], PairedBootstrap.holm [| 0.7 |])
    Assert.Empty(PairedBootstrap.holm [||])

/// Deterministic predictions of every kind (right, differently cased, partial, empty, wrong) for golden values.
let private predictionFor (i: int) (gold: string) =
    match i % 5 with
    | 0 -> gold
    | 1 -> gold.ToUpperInvariant() + "."
    | 2 -> "the " + (gold.Split(' ') |> Array.head)
    | 3 -> ""
    | _ -> "completely wrong answer"

let private metricLines (root: string) =
    [ for task in Masking.Tasks.Registry.all do
          let dev =
              task.Load root Masking.Tasks.Dev
              |> Result.defaultWith failwith
              |> List.truncate 40

          let pairs = dev |> List.mapi (fun i e -> predictionFor i e.Targets.Head, e.Targets)

          let scores =
              task.Metrics
              |> List.map (fun m -> sprintf "\"%s\": %.6f" (Metric.key m) (Metric.score m pairs))
              |> String.concat ", "

          yield sprintf "{\"task\": \"%s\", \"count\": %d, %s}" task.Name pairs.Length scores ]
    |> String.concat "\n"

let private checkGolden (file: string) (lines: string) =
    let path = Path.Combine(repoRoot.Value, "golden", "metrics", file)

    if System.Environment.GetEnvironmentVariable "MASKING_REGENERATE_GOLDEN" = "1" then
        File.WriteAllText(path, lines + "\n")
    else
        Assert.True(File.Exists path, path + " is missing; see golden/README.md")
        Assert.Equal(File.ReadAllText path, lines + "\n")

[<DataFact>]
let ``every task's metrics on deterministic predictions match the golden values`` () =
    checkGolden "tasks.jsonl" (metricLines dataRoot.Value)

[<Fact>]
let ``every task's metrics on the fixtures' dev examples match the golden values`` () =
    checkGolden "tasks-fixtures.jsonl" (metricLines fixtureRoot.Value)

[<Fact>]
let ``a logistic fit recovers the curve it was drawn from, and refuses data with no fit`` () =
    // Outcomes at their exact expected values: the fit is the curve itself.
    let xs = [| 0.0..0.5..5.0 |]
    let ys = xs |> Array.map (fun x -> 1.0 / (1.0 + exp -(-2.0 + 0.8 * x)))
    let fit = (Logistic.fit xs ys).Value
    Assert.Equal(-2.0, fit.Intercept, 6)
    Assert.Equal(0.8, fit.Slope, 6)
    Assert.True(fit.SlopeError > 0.0)
    Assert.Equal(None, Logistic.fit [| 1.0; 1.0; 1.0 |] [| 0.0; 1.0; 0.0 |])
    Assert.Equal(None, Logistic.fit [| 1.0; 2.0; 3.0 |] [| 1.0; 1.0; 1.0 |])
    // Separable data has no finite fit either: the slope grows without bound.
    Assert.Equal(None, Logistic.fit [| 0.0; 1.0; 2.0; 3.0 |] [| 0.0; 0.0; 1.0; 1.0 |])
