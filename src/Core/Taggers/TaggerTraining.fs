namespace Masking.Taggers

open System
open System.Collections.Generic
open Masking

/// How a tagger is trained: plain data, with the defaults of `masking tag train`.
type TaggerTrainingOptions =
    {
        Kind: TaggerKind
        /// Lower-cased word → gazetteer bits (NER; empty: none).
        Gazetteer: Dictionary<string, int>
        /// Lower-cased word → word-cluster ids per granularity (empty: none).
        Clusters: Dictionary<string, int[]>
        /// Lower-cased word → mid-sentence capitalisation profile (NER; empty: none).
        CaseProfiles: Dictionary<string, int>
        /// Passes over the training sentences.
        Iterations: int
        /// Perceptrons trained on different sentence orders and averaged into one (1: a single one).
        Ensemble: int
        Seed: uint64
        /// log2 of the hashed feature table's rows.
        BucketBits: int
    }

module TaggerTrainingOptions =
    let defaults (kind: TaggerKind) =
        { Kind = kind
          Gazetteer = Dictionary()
          Clusters = Dictionary()
          CaseProfiles = Dictionary()
          Iterations = if kind = PosTagger then 10 else 16
          Ensemble = if kind = PosTagger then 1 else 6
          Seed = 0UL
          BucketBits = 20 }

/// Trains taggers: averaged perceptrons with greedy decoding over predicted history, and for NER a second,
/// document-level pass stacked on cross-validated first-pass output.
module TaggerTraining =
    /// One perceptron's training data: the sentences with their lexicons and document contexts.
    type private Pass =
        { Tags: string[]
          Index: Dictionary<string, int>
          Data: TaggedSentence[]
          LexiconOf: int -> Dictionary<string, int>
          ContextOf: int -> DocumentContext }

    /// One perceptron trained with `iterations` passes over the sentences in a seeded order; greedy decoding
    /// with predicted history, as at tagging time.
    let private trainPass (o: TaggerTrainingOptions) (pass: Pass) (seed: uint64) (progress: int -> float -> unit) =
        let kind = o.Kind
        let perceptron = AveragedPerceptron(pass.Tags.Length, o.BucketBits)
        let buffer = Array.zeroCreate<uint64> Tagger.maxFeatures
        let buckets = Array.zeroCreate<int> Tagger.maxFeatures
        let scores = Array.zeroCreate<float32> pass.Tags.Length
        let data = pass.Data

        for iteration in 1 .. o.Iterations do
            let rng = Rng(Seeds.derive seed iteration 0L)
            let order = Array.init data.Length id
            rng.Shuffle order

            let mutable correct, total = 0, 0

            for si in order do
                let s = data[si]
                let context = pass.ContextOf si

                let v =
                    Tagger.view kind (pass.LexiconOf si) o.Gazetteer o.Clusters o.CaseProfiles s.Words

                let mutable prev, prev2 = -1, -1

                for i in 0 .. s.Words.Length - 1 do
                    let n = Tagger.features kind context v i prev prev2 buffer

                    for k in 0 .. n - 1 do
                        buckets[k] <- perceptron.Bucket buffer[k]

                    let span = ReadOnlySpan(buckets, 0, n)
                    perceptron.Score(span, scores)
                    let mutable guess = 0

                    for c in 1 .. scores.Length - 1 do
                        if scores[c] > scores[guess] then
                            guess <- c

                    let truth = pass.Index[s.Tags[i]]
                    perceptron.Update(span, truth, guess)

                    if guess = truth then
                        correct <- correct + 1

                    total <- total + 1
                    prev2 <- prev
                    prev <- guess

            progress iteration (float correct / float (max 1 total))

        perceptron.Average()
        perceptron

    /// Trains a tagger. NER adds a second pass trained on 5-fold cross-validated first-pass output, and
    /// its lexicon features in training come from the other folds, as unseen text will see them.
    /// Trains a tagger. NER adds a second pass trained on 5-fold cross-validated first-pass output, and
    /// its lexicon features in training come from the other folds, as unseen text will see them. `progress`
    /// hears (pass, iteration, training accuracy).
    let train
        (o: TaggerTrainingOptions)
        (sentences: TaggedSentence list)
        (progress: string -> int -> float -> unit)
        : TaggerModel =
        let kind = o.Kind

        let tags =
            sentences
            |> Seq.collect (fun s -> s.Tags)
            |> Seq.distinct
            |> Seq.sort
            |> Array.ofSeq

        let index = Dictionary<string, int>()
        tags |> Array.iteri (fun i t -> index[t] <- i)
        let data = Array.ofList sentences
        let folds = 5

        let foldOf (s: TaggedSentence) (i: int) =
            (if s.Document >= 0 then s.Document else i) % folds

        let foldIndex = data |> Array.mapi (fun i s -> foldOf s i)

        let lexicon =
            if kind = NerTagger then
                Tagger.buildLexicon sentences
            else
                Dictionary<string, int>()

        let foldLexicons =
            if kind = NerTagger then
                Array.init folds (fun f ->
                    data
                    |> Seq.indexed
                    |> Seq.filter (fun (i, _) -> foldIndex[i] <> f)
                    |> Seq.map snd
                    |> List.ofSeq
                    |> Tagger.buildLexicon)
            else
                Array.create folds lexicon

        // Sentences without a document are documents of their own.
        let docOf (i: int) (s: TaggedSentence) =
            if s.Document >= 0 then s.Document else -1 - i

        let documents = data |> Array.indexed |> Array.groupBy (fun (i, s) -> docOf i s)

        let contexts =
            documents
            |> Array.map (fun (d, ss) -> d, DocumentContext.ofSentences (ss |> Array.map (fun (_, s) -> s.Words)))
            |> dict

        let contextOf = data |> Array.mapi (fun i s -> contexts[docOf i s])
        let foldLexiconOf i = foldLexicons[foldIndex[i]]

        // Both passes train on all sentences; they differ in the document context their features see. With
        // an o.Ensemble, perceptrons trained on different sentence orders are averaged into one weight table:
        // a linear model still, so tagging costs the same.
        let trainOnAll (contextOfSentence: int -> DocumentContext) (label: string) =
            let trainMember k =
                trainPass
                    o
                    { Tags = tags
                      Index = index
                      Data = data
                      LexiconOf = foldLexiconOf
                      ContextOf = contextOfSentence }
                    (if k = 0 then o.Seed else Seeds.derive o.Seed 1000 (int64 k))
                    (progress (
                        if o.Ensemble = 1 then
                            label
                        else
                            sprintf "%s member %d/%d" label (k + 1) o.Ensemble
                    ))

            if o.Ensemble = 1 then
                trainMember 0
            else
                // Summed as they are trained: one member's table in memory besides the sum, not all of them.
                let weights = (trainMember 0).Weights

                for k in 1 .. o.Ensemble - 1 do
                    let w = (trainMember k).Weights

                    for i in 0 .. weights.Length - 1 do
                        weights[i] <- weights[i] + w[i]

                let scale = 1.0f / float32 o.Ensemble

                for i in 0 .. weights.Length - 1 do
                    weights[i] <- weights[i] * scale

                AveragedPerceptron.FromWeights(tags.Length, o.BucketBits, weights)

        let first = trainOnAll (fun i -> contextOf[i]) "pass 1"

        let model =
            { Kind = kind
              Tags = tags
              Perceptron = first
              Lexicon = lexicon
              Gazetteer = o.Gazetteer
              Clusters = o.Clusters
              CaseProfiles = o.CaseProfiles
              DocumentPass = None
              Meta = Map.empty }

        if kind = PosTagger then
            model
        else
            // Cross-validated first-pass tags for every training document.
            let predicted = Array.zeroCreate<string[]> data.Length

            for f in 0 .. folds - 1 do
                let insideIndex =
                    [| for i in 0 .. data.Length - 1 do
                           if foldIndex[i] <> f then
                               yield i |]

                let inside = insideIndex |> Array.map (fun i -> data[i])

                let heldLexicon = inside |> List.ofArray |> Tagger.buildLexicon

                let foldModel =
                    { model with
                        Perceptron =
                            trainPass
                                o
                                { Tags = tags
                                  Index = index
                                  Data = inside
                                  LexiconOf = fun _ -> heldLexicon
                                  ContextOf = fun j -> contextOf[insideIndex[j]] }
                                o.Seed
                                (fun _ _ -> ())
                        Lexicon = heldLexicon }

                for _, members in documents do
                    let members = members |> Array.filter (fun (i, _) -> foldIndex[i] = f)

                    if members.Length > 0 then
                        let words = members |> Array.map (fun (_, s) -> s.Words) |> List.ofArray
                        let context = DocumentContext.ofSentences words
                        let index' = Tagger.tagIndex foldModel

                        members
                        |> Array.iter (fun (i, s) ->
                            predicted[i] <-
                                Tagger.tagPass
                                    foldModel
                                    foldModel.Perceptron
                                    index'
                                    context
                                    (Tagger.view kind heldLexicon o.Gazetteer o.Clusters o.CaseProfiles s.Words))

                progress (sprintf "cross-validation fold %d" (f + 1)) o.Iterations 0.0

            let secondContexts =
                documents
                |> Array.map (fun (d, ss) ->
                    let words = ss |> Array.map (fun (_, s) -> s.Words) |> List.ofArray
                    let tags' = ss |> Array.map (fun (i, _) -> predicted[i]) |> List.ofArray
                    d, DocumentContext.withFirstPass words tags' contexts[d])
                |> dict

            let second = trainOnAll (fun i -> secondContexts[docOf i data[i]]) "pass 2"

            { model with
                DocumentPass = Some second }
