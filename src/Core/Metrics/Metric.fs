namespace Masking.Metrics

/// The metrics a task can declare; each example scores the max over its gold answers.
type Metric =
    | ExactMatch
    | TokenF1
    | StrictAccuracy
    | ChoiceAccuracy
    | RougeL

module Metric =
    /// The key under which the metric appears in JSON results.
    let key =
        function
        | ExactMatch -> "em"
        | TokenF1 -> "f1"
        | StrictAccuracy
        | ChoiceAccuracy -> "accuracy"
        | RougeL -> "rougeL"

    let scoreOne (metric: Metric) (prediction: string) (golds: string seq) =
        let f =
            match metric with
            | ExactMatch -> Answers.exactMatch
            | TokenF1 -> Answers.f1
            | StrictAccuracy -> Answers.strictAccuracy
            | ChoiceAccuracy -> Answers.choiceAccuracy
            | RougeL -> Answers.rougeL

        Answers.bestOver f prediction golds

    /// Mean score over (prediction, golds) pairs; 0 for no pairs.
    let score (metric: Metric) (pairs: (string * string list) list) =
        if pairs.IsEmpty then
            0.0
        else
            pairs |> List.averageBy (fun (p, golds) -> scoreOne metric p golds)
