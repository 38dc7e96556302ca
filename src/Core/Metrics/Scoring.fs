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

/// Scoring is pure: examples and predictions in, figures out (the files are PredictionFiles').
module Scoring =
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
