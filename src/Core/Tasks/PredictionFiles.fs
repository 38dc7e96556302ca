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

    /// A gold id twice would count its question twice (and score one prediction against both).
    let private requireUniqueIds (path: string) =
        let firstLine = System.Collections.Generic.Dictionary<string, int>()

        for node in Readers.jsonLines path do
            let id = idField path node

            match firstLine.TryGetValue id with
            | true, line -> fail path node.Line "expected each id once; \"%s\" is on line %d already" id line
            | _ -> firstLine[id] <- node.Line

    /// `masking score`: KILT-format gold and prediction JSONL files.
    let score (task: TaskInfo) (goldPath: string) (predPath: string) : Result<ScoreReport, string> =
        TaskExample.attempt
            (fun p ->
                requireUniqueIds p
                Readers.kilt p)
            goldPath
        |> Result.bind (fun gold -> TaskExample.attempt (fun p -> Scoring.scoreExamples task p gold (read p)) predPath)
