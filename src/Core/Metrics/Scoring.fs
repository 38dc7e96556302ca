namespace Masking.Metrics

open System
open System.Collections.Generic
open Masking.Tasks
open Masking.Tasks.JsonText

/// A task's metrics over a prediction file, matched to the gold file by id.
type ScoreReport =
    {
        Task: string
        Count: int
        /// (metric key, mean score) in the task's order; the first is the headline metric.
        Scores: (string * float) list
    }

module Scoring =
    /// Predictions in KILT form: {"id", "output": [{"answer": ...}]} (only the first answer counts).
    let readPredictions (path: string) : (string * int * string) list =
        Readers.jsonLines path
        |> List.map (fun node ->
            let id = idField path node

            match field path "output" node |> array path "\"output\"" with
            | first :: _ -> id, node.Line, stringField path "answer" first
            | [] -> fail path node.Line "expected at least one entry in \"output\" with the predicted \"answer\"")

    /// Scores gold examples against predictions keyed by id; every gold id needs exactly one prediction.
    let scoreExamples
        (task: TaskInfo)
        (predPath: string)
        (gold: TaskExample list)
        (predictions: (string * int * string) list)
        =
        let byId = Dictionary<string, string>()

        for id, line, answer in predictions do
            if byId.ContainsKey id then
                fail predPath line "expected one prediction per id; \"%s\" appears again" id

            byId[id] <- answer

        let goldIds = HashSet<string>(gold |> List.map (fun g -> g.Id))

        match predictions |> List.tryFind (fun (id, _, _) -> not (goldIds.Contains id)) with
        | Some(id, line, _) -> fail predPath line "expected an id of the gold file; \"%s\" is not one" id
        | None -> ()

        let pairs =
            gold
            |> List.map (fun g ->
                match byId.TryGetValue g.Id with
                | true, answer -> answer, g.Targets
                | _ -> fail predPath 0 "expected a prediction for gold id \"%s\"" g.Id)

        { Task = task.Name
          Count = pairs.Length
          Scores =
            task.Metrics
            |> List.map (fun m -> Metric.key m, Metric.score m pairs)
            |> List.distinctBy fst }

    /// `masking score`: KILT-format gold and prediction JSONL files.
    let scoreFiles (task: TaskInfo) (goldPath: string) (predPath: string) : Result<ScoreReport, string> =
        TaskExample.attempt Readers.kilt goldPath
        |> Result.bind (fun gold ->
            TaskExample.attempt (fun p -> scoreExamples task p gold (readPredictions p)) predPath)
