namespace Masking.Tasks

open System
open System.IO
open Masking.Metrics

/// One of the paper's nine tasks: where its data are, how splits are made, and how it is scored.
type TaskInfo =
    {
        Name: string
        Family: TaskFamily
        /// The first metric is the one results tables report.
        Metrics: Metric list
        Summary: string
        /// How the splits are made from the files in the data root (README quotes this).
        Splits: string
        /// A marker in the source that a cut must keep (AY2's "[START_ENT]"): a source longer than the model's
        /// limit keeps a window around it instead of its first tokens.
        Focus: string option
        /// Read from the data root; the generated world's tasks need none.
        NeedsDataRoot: bool
        Load: string -> Split -> Result<TaskExample list, string>
    }

/// The nine tasks, read from the files in ../shared/data (DESIGN §3, method-notes §5).
module Registry =
    let private under (root: string) (relative: string) = Path.Combine(root, relative)

    /// The first `fraction` of a list for training and the rest for dev (T5's closed-book splits do the same).
    let private cut (fraction: float) (split: Split) (examples: TaskExample list) =
        let n = int (Math.Round(fraction * float examples.Length))

        match split with
        | Train -> List.take n examples
        | _ -> List.skip n examples

    /// The first 80% for training, the next 10% for dev, the last 10% for test (tasks that ship one split).
    let private eightyTenTen (split: Split) (xs: TaskExample list) =
        let n = xs.Length
        let a, b = int (0.8 * float n), int (0.9 * float n)

        match split with
        | Train -> List.take a xs
        | Dev -> xs[a .. b - 1]
        | Test -> List.skip b xs

    let private load (reader: string -> TaskExample list) (path: string) = TaskExample.attempt reader path

    /// DPR lists TriviaQA's aliases in no particular order (the first can be an emoji); train on the first
    /// alias that has a letter or digit, and keep all of them for scoring.
    let private readableTargetFirst (e: TaskExample) =
        match e.Targets |> List.tryFind (Seq.exists Char.IsLetterOrDigit) with
        | Some t ->
            { e with
                Targets = t :: List.filter ((<>) t) e.Targets }
        | None -> e

    let private flattenNewlines (e: TaskExample) =
        { e with
            Source = e.Source.Replace('\n', ' ') }

    /// The paper's nine tasks.
    let paper: TaskInfo list =
        [ { Name = "tqa"
            Family = ClosedBookQA
            Metrics = [ ExactMatch; TokenF1 ]
            Summary = "TriviaQA, closed-book: question → answer (EM against all aliases)"
            Splits =
              "train/dev = the first 90% / last 10% of the DPR dev split (8,837; held out from the unfiltered train set); test = the DPR test split (11,313 = the official unfiltered dev set)"
            Focus = None
            NeedsDataRoot = true
            Load =
              fun root split ->
                  match split with
                  | Test -> load Readers.dprTopics (under root "triviaqa_open/topics.dpr.trivia.test.txt")
                  | _ ->
                      load Readers.dprTopics (under root "triviaqa_open/topics.dpr.trivia.dev.txt")
                      |> Result.map (cut 0.9 split)
                  |> Result.map (List.map readableTargetFirst) }
          { Name = "nq"
            Family = ClosedBookQA
            Metrics = [ ExactMatch; TokenF1 ]
            Summary = "Natural Questions (NQ-open), closed-book: question → answer"
            Splits =
              "train/dev = the first 90% / last 10% of DPR's nq-dev split (8,757, carved from NQ train); test = NQ-open.dev.jsonl (3,610, the standard NQ-open test set)"
            Focus = None
            NeedsDataRoot = true
            Load =
              fun root split ->
                  match split with
                  | Test -> load Readers.nqOpen (under root "nq_open/NQ-open.dev.jsonl")
                  | _ ->
                      load Readers.dprTopics (under root "nq_open/topics.nq.dev.txt")
                      |> Result.map (cut 0.9 split) }
          { Name = "wq"
            Family = ClosedBookQA
            Metrics = [ ExactMatch; TokenF1 ]
            Summary = "WebQuestions, closed-book: question → answer"
            Splits =
              "train = the first 3,417 of the original train split (trainmodel + val + devtest = 3,778), dev = the other 361 (as T5's closed-book splits); test = test.json (2,032)"
            Focus = None
            NeedsDataRoot = true
            Load =
              fun root split ->
                  match split with
                  | Test -> load Readers.webQuestions (under root "webquestions/test.json")
                  | _ ->
                      [ "trainmodel.json"; "val.json"; "devtest.json" ]
                      |> List.map (fun f -> load Readers.webQuestions (under root ("webquestions/" + f)))
                      |> List.fold (fun acc r -> Result.bind (fun xs -> Result.map (fun ys -> xs @ ys) r) acc) (Ok [])
                      |> Result.map (fun xs ->
                          // T5's 3,417 of 3,778, as a share, so that a smaller copy (the test fixtures) splits too.
                          let n = int (Math.Round(3417.0 / 3778.0 * float xs.Length))

                          if split = Train then List.take n xs else List.skip n xs) }
          { Name = "ay2"
            Family = KnowledgeIntensive
            Metrics = [ StrictAccuracy ]
            Summary =
              "AIDA CoNLL-YAGO entity linking (KILT AY2): document with [START_ENT] mention [END_ENT] → Wikipedia title"
            Splits =
              "rebuilt from CoNLL-2003 and the AIDA-YAGO annotations: train = AIDA train (18,541 linked mentions), dev = testa (4,791), test = testb (4,485); KILT keeps 18,395 / 4,784 / 4,463 of them"
            Focus = Some "[START_ENT]"
            NeedsDataRoot = true
            Load =
              fun root split ->
                  // AIDA's splits come from one pass over the annotations; each split asked for reads it again
                  // (a second or two) rather than keeping a process-wide cache that nothing clears.
                  TaskExample.attempt
                      (fun annotations ->
                          Aida.read
                              annotations
                              (under root "conll2003/train.txt")
                              (under root "conll2003/valid.txt")
                              (under root "conll2003/test.txt"))
                      (under root "aida_conll_yago/AIDA-YAGO2-annotations.tsv")
                  |> Result.map (fun (train, dev, test) ->
                      match split with
                      | Train -> train
                      | Dev -> dev
                      | Test -> test) }
          { Name = "zsre"
            Family = KnowledgeIntensive
            Metrics = [ StrictAccuracy; TokenF1 ]
            Summary = "zsRE slot filling (KILT): \"subject [SEP] relation\" → object"
            Splits =
              "only KILT's dev set (3,724) is available: train = its first 80%, dev = the next 10%, test = the last 10%"
            Focus = None
            NeedsDataRoot = true
            Load =
              fun root split ->
                  load Readers.crossfit (under root "crossfit_format/kilt_zsre_16_100_test.jsonl")
                  |> Result.map (eightyTenTen split) }
          { Name = "wow"
            Family = KnowledgeIntensive
            Metrics = [ TokenF1; RougeL ]
            Summary = "Wizard of Wikipedia dialogue (KILT): dialogue history (turns joined by spaces) → next utterance"
            Splits =
              "KILT train / dev (test = dev: KILT's test answers are hidden); only their first 5 records ship in the shared data, `masking data download wow` fetches the full files into DATA/kilt/"
            Focus = None
            NeedsDataRoot = true
            Load =
              fun root split ->
                  let file =
                      if split = Train then
                          "wow-train-kilt.jsonl"
                      else
                          "wow-dev-kilt.jsonl"
                  // The full KILT files, once `masking data download wow` has fetched them; else the samples.
                  let full = under root ("kilt/" + file)

                  let path =
                      if File.Exists full then
                          full
                      else
                          under root ("kilt_samples/" + file)

                  load Readers.kilt path |> Result.map (List.map flattenNewlines) }
          { Name = "wiqa"
            Family = ContextQA
            Metrics = [ ChoiceAccuracy ]
            Summary = "WIQA: process paragraph + \"suppose … how will it affect …\" → more / less / no effect"
            Splits =
              "only WIQA dev (6,894, CrossFit's text-to-text form) is available: train = its first 80%, dev = the next 10%, test = the last 10%"
            Focus = None
            NeedsDataRoot = true
            Load =
              fun root split ->
                  load Readers.crossfit (under root "crossfit_format/wiqa_16_100_test.jsonl")
                  |> Result.map (fun xs ->
                      // CrossFit's input is the process steps followed by the question; the steps are the context.
                      let xs =
                          xs
                          |> List.map (fun e ->
                              let cut = e.Source.LastIndexOf(".suppose", StringComparison.Ordinal)

                              let context =
                                  if cut > 0 then
                                      e.Source.Substring(0, cut + 1).Trim()
                                  else
                                      e.Source

                              { e with Context = Some context })

                      eightyTenTen split xs) }
          { Name = "quartz"
            Family = ContextQA
            Metrics = [ ChoiceAccuracy ]
            Summary = "QuaRTz: question + knowledge sentence (+ options) → the chosen option"
            Splits =
              "train = the PromptSource train records (upstream-5000.json, 2,447 questions under 8 templates); dev/test = the first / second half of QuaRTz dev with knowledge (384, CrossFit form)"
            Focus = None
            NeedsDataRoot = true
            Load =
              fun root split ->
                  match split with
                  | Train -> load Readers.quartzPromptSource (under root "quartz_promptsource/upstream-5000.json")
                  | _ ->
                      load Readers.crossfit (under root "crossfit_format/quartz-with_knowledge_16_100_test.jsonl")
                      |> Result.map (fun xs ->
                          if split = Dev then
                              List.take (xs.Length / 2) xs
                          else
                              List.skip (xs.Length / 2) xs) }
          { Name = "ropes"
            Family = ContextQA
            Metrics = [ ExactMatch; TokenF1 ]
            Summary = "ROPES: question [SEP] situation [SEP] background → answer span"
            Splits =
              "train/dev = the first 90% / last 10% of ROPES train (10,924); test = ROPES dev (1,688; official test labels are hidden)"
            Focus = None
            NeedsDataRoot = true
            Load =
              fun root split ->
                  match split with
                  | Test -> load Readers.ropes (under root "ropes/dev-v1.0.json")
                  | _ ->
                      load Readers.ropes (under root "ropes/train-v1.0.json")
                      |> Result.map (cut 0.9 split) } ]

    /// The generated world of the default size (built once, on first use).
    let defaultWorld =
        lazy (Masking.World.WorldTasks.build Masking.World.WorldConfig.defaults)

    let private worldTask name family metrics summary make =
        { Name = name
          Family = family
          Metrics = metrics
          Summary = summary
          Splits =
            "the generated world's target subjects: 40% asked in fine-tuning (train), 10% dev, 50% test; dev and test facts appear only in the intermediate pre-training corpus"
          Focus = None
          NeedsDataRoot = false
          Load = fun _ split -> Ok(make defaultWorld.Value split) }

    /// The generated world's tasks, one per family (they need no data root).
    let world: TaskInfo list =
        [ worldTask
              "world-cbqa"
              ClosedBookQA
              [ ExactMatch; TokenF1 ]
              "generated world, closed-book QA: question → answer"
              Masking.World.WorldTasks.closedBook
          worldTask
              "world-occupation"
              ClosedBookQA
              [ ExactMatch; TokenF1 ]
              "generated world, closed-book QA about one relation: \"What is the occupation of X?\" → occupation"
              Masking.World.WorldTasks.occupation
          worldTask
              "world-slot"
              KnowledgeIntensive
              [ StrictAccuracy; TokenF1 ]
              "generated world, slot filling: \"subject [SEP] relation\" → object"
              Masking.World.WorldTasks.slotFilling
          worldTask
              "world-cqa"
              ContextQA
              [ ChoiceAccuracy ]
              "generated world, context QA with two options: question, options [SEP] paragraph → answer"
              Masking.World.WorldTasks.contextQA
          worldTask
              "world-bio"
              KnowledgeIntensive
              [ RougeL; TokenF1 ]
              "generated world, a long output: \"Tell me about X.\" → every fact about X, one sentence each"
              Masking.World.WorldTasks.biography ]

    let all = paper @ world

    let names = all |> List.map (fun t -> t.Name)

    let tryFind (name: string) =
        all
        |> List.tryFind (fun t -> String.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))

    let find (name: string) : Result<TaskInfo, string> =
        match tryFind name with
        | Some t -> Ok t
        | None -> Error(sprintf "unknown task '%s'; known: %s" name (String.Join(", ", names)))
