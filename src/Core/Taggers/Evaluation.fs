namespace Masking.Taggers

/// Token accuracy (POS) and entity-level precision, recall and F1 (NER, exact spans and types, as conlleval).
module Evaluation =
    let accuracy (gold: string[] list) (predicted: string[] list) =
        let pairs =
            List.zip gold predicted
            |> List.collect (fun (g, p) -> Array.zip g p |> List.ofArray)

        float (pairs |> List.filter (fun (g, p) -> g = p) |> List.length)
        / float (max 1 pairs.Length)

    /// (start, end, type) of every IOB2 entity; a stray I-X starts an entity, as conlleval reads it.
    let entities (tags: string[]) =
        let result = ResizeArray<int * int * string>()
        let mutable start, kind = -1, ""

        let close i =
            if start >= 0 then
                result.Add(start, i, kind)

            start <- -1

        tags
        |> Array.iteri (fun i t ->
            if t = "O" then
                close i
            elif t.StartsWith "B-" || (t.StartsWith "I-" && (start < 0 || kind <> t.Substring 2)) then
                close i
                start <- i
                kind <- t.Substring 2)

        close tags.Length
        Set.ofSeq result

    /// (precision, recall, F1) over all sentences.
    let entityF1 (gold: string[] list) (predicted: string[] list) =
        let mutable tp, predictedCount, goldCount = 0, 0, 0

        for g, p in List.zip gold predicted do
            let ge, pe = entities g, entities p
            tp <- tp + (Set.intersect ge pe).Count
            predictedCount <- predictedCount + pe.Count
            goldCount <- goldCount + ge.Count

        let precision =
            if predictedCount = 0 then
                0.0
            else
                float tp / float predictedCount

        let recall = if goldCount = 0 then 0.0 else float tp / float goldCount

        let f1 =
            if precision + recall = 0.0 then
                0.0
            else
                2.0 * precision * recall / (precision + recall)

        precision, recall, f1
