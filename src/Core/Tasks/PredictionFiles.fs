namespace Masking.Tasks

open Masking.Metrics
open Masking.Tasks.JsonText

/// Prediction files in KILT's format, and `masking score` over a gold and a prediction file.
module PredictionFiles =
    /// Predictions in KILT form: {"id", "output": [{"answer": ...}]} (only the first answer counts), each with
    /// its line.
    let read (path: string) : (string * int * string) list =
        Readers.jsonLines path
        |> List.map (fun node ->
            let id = idField path node

            match field path "output" node |> array path "\"output\"" with
            | first :: _ -> id, node.Line, stringField path "answer" first
            | [] -> fail path node.Line "expected at least one entry in \"output\" with the predicted \"answer\"")

    /// `masking score`: KILT-format gold and prediction JSONL files.
    let score (task: TaskInfo) (goldPath: string) (predPath: string) : Result<ScoreReport, string> =
        TaskExample.attempt Readers.kilt goldPath
        |> Result.bind (fun gold -> TaskExample.attempt (fun p -> Scoring.scoreExamples task p gold (read p)) predPath)
