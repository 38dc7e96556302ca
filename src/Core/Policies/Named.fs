namespace Masking.Policies

open System
open System.Globalization
open Masking

/// A knob's value in a policy spec: a number or a word.
type KnobValue =
    | Number of float
    | Word of string

    override v.ToString() =
        match v with
        | Number x -> x.ToString("R", CultureInfo.InvariantCulture)
        | Word w -> w

/// A policy knob: its name (as the anchors name it), aliases, default, meaning and validation.
type Knob =
    { Name: string
      Aliases: string list
      Default: KnobValue
      Help: string
      Check: KnobValue -> Result<KnobValue, string> }

/// A named policy: a preset of the algebra's parts, with its knobs.
type PolicyInfo =
    { Name: string
      Summary: string
      Knobs: Knob list
      Build: SpecialTokens -> Map<string, KnobValue> -> Policy }

module Knob =
    let private describe =
        function
        | Number x -> x.ToString("R", CultureInfo.InvariantCulture)
        | Word w -> sprintf "'%s'" w

    let number name aliases (defaultValue: float) (lo: float) (hi: float) help =
        { Name = name
          Aliases = aliases
          Default = Number defaultValue
          Help = help
          Check =
            function
            | Number x when x >= lo && x <= hi -> Ok(Number x)
            | v -> Error(sprintf "expects a number in [%g, %g], got %s" lo hi (describe v)) }

    let integer name aliases (defaultValue: int) (lo: int) (hi: int) help =
        { Name = name
          Aliases = aliases
          Default = Number(float defaultValue)
          Help = help
          Check =
            function
            | Number x when x = Math.Floor x && x >= float lo && x <= float hi -> Ok(Number x)
            | v -> Error(sprintf "expects an integer in [%d, %d], got %s" lo hi (describe v)) }

    let choice name (defaultValue: string) (choices: string list) help =
        { Name = name
          Aliases = []
          Default = Word defaultValue
          Help = sprintf "%s (%s)" help (String.Join("|", choices))
          Check =
            function
            | Word w when List.contains w choices -> Ok(Word w)
            | v -> Error(sprintf "expects one of %s, got %s" (String.Join(", ", choices)) (describe v)) }

    let word name (defaultValue: string) help =
        { Name = name
          Aliases = []
          Default = Word defaultValue
          Help = help
          Check =
            function
            | Word w -> Ok(Word w)
            | Number x -> Ok(Word(x.ToString(CultureInfo.InvariantCulture))) }

/// The built-in policies. Every one is built only from the parts in Choose and Build.
module Named =
    let private num (knobs: Map<string, KnobValue>) name =
        match knobs[name] with
        | Number x -> x
        | Word w -> failwithf "knob %s holds '%s' after validation" name w

    let private word (knobs: Map<string, KnobValue>) name =
        match knobs[name] with
        | Word w -> w
        | Number x -> string x

    let private replaceKnob defaultValue =
        Knob.choice
            "replace"
            defaultValue
            [ "span"; "token"; "corrupt"; "sentinel"; "delete" ]
            "what replaces a masked span in the source"

    let private targetKnob defaultValue =
        Knob.choice "target" defaultValue [ "full"; "spans"; "bare-spans"; "sentinels" ] "the decoder target"

    /// BERT's 80/10/10 knobs; perSpan draws once per span (SpanBERT) instead of once per token.
    let private corruptKnobs perSpan =
        [ Knob.number
              "mask_replace_prob"
              []
              0.8
              0.0
              1.0
              "with replace=corrupt: share of masked tokens (or spans) that become <mask>"
          Knob.number "random_replace_prob" [] 0.1 0.0 1.0 "with replace=corrupt: share that become random tokens"
          Knob.integer
              "corrupt_per_span"
              []
              (if perSpan then 1 else 0)
              0
              1
              "with replace=corrupt: draw once per span instead of per token" ]

    let private unitKnob defaultValue =
        Knob.choice
            "unit"
            defaultValue
            [ "token"; "word"; "entity" ]
            "what a selection picks: tokens, whole words or annotated spans"

    let private segmentation (knobs: Map<string, KnobValue>) =
        match word knobs "unit" with
        | "word" -> WordUnits
        | "entity" -> AnnotationUnits []
        | _ -> TokenUnits

    let private replacement (knobs: Map<string, KnobValue>) =
        match word knobs "replace" with
        | "token" -> MaskPerToken
        | "corrupt" ->
            let m, r = num knobs "mask_replace_prob", num knobs "random_replace_prob"

            if m + r > 1.0 + 1e-12 then
                invalidArg "knobs" "mask_replace_prob + random_replace_prob must not exceed 1"

            Corrupt(m, r, num knobs "corrupt_per_span" = 1.0)
        | "sentinel" -> SentinelPerSpan
        | "delete" -> Delete
        | _ -> MaskPerSpan

    let private targetFormat (knobs: Map<string, KnobValue>) =
        match word knobs "target" with
        | "full" -> FullSequence
        | "bare-spans" -> MaskedSpans false
        | "sentinels" -> SentinelSpans
        | _ -> MaskedSpans true

    let private denoise name (choose: Map<string, KnobValue> -> Chooser) specials knobs =
        Policy.denoise
            name
            specials
            { Choose = choose knobs
              Replace = replacement knobs
              Target = targetFormat knobs }

    let private fractionChooser knobs =
        match word knobs "sampling" with
        | "bernoulli" -> Choose.bernoulli (segmentation knobs) (num knobs "p") true
        | _ -> Choose.budget (segmentation knobs) (num knobs "p")

    let private samplingKnob =
        Knob.choice
            "sampling"
            "exact"
            [ "exact"; "bernoulli" ]
            "exact budget, or each unit independently (at least one)"

    let private pKnob =
        Knob.number "p" [ "mlm_probability" ] 0.15 0.0 1.0 "fraction of tokens to mask"

    let all: PolicyInfo list =
        [ { Name = "orig"
            Summary = "15% of tokens at random, runs merged into one <mask>; target = the full original sequence"
            Knobs =
              [ pKnob; unitKnob "token"; samplingKnob; replaceKnob "span"; targetKnob "full" ]
              @ corruptKnobs false
            Build = denoise "orig" fractionChooser }
          { Name = "rand"
            Summary = "15% of tokens at random, one <mask> per span; target = the masked spans, <mask>-separated"
            Knobs =
              [ pKnob
                unitKnob "token"
                samplingKnob
                replaceKnob "span"
                targetKnob "spans" ]
              @ corruptKnobs false
            Build = denoise "rand" fractionChooser }
          { Name = "ssm"
            Summary = "salient span masking: one annotated entity or date per sentence; target = the span only"
            Knobs =
              [ Knob.integer "per_sentence" [] 1 1 1000 "spans masked per sentence"
                Knob.word "labels" "all" "annotation labels to mask, '|'-separated, or all"
                replaceKnob "span"
                targetKnob "bare-spans" ]
              @ corruptKnobs false
            Build =
              denoise "ssm" (fun knobs ->
                  let labels =
                      match word knobs "labels" with
                      | "all" -> []
                      | l -> l.Split('|', StringSplitOptions.RemoveEmptyEntries) |> List.ofArray

                  Choose.perSentence (AnnotationUnits labels) (int (num knobs "per_sentence"))) }
          { Name = "oracle"
            Summary =
              "the upper bound, not a competitor: the answer of every evaluation question, where the world states it, one per sentence"
            Knobs =
              [ Knob.choice "split" "test" [ "test"; "dev" ] "whose questions' answers to mask (the evaluated split)"
                replaceKnob "span"
                targetKnob "bare-spans" ]
              @ corruptKnobs false
            Build =
              denoise "oracle" (fun knobs ->
                  let label =
                      if word knobs "split" = "dev" then
                          Annotation.askedDev
                      else
                          Annotation.askedTest

                  Choose.perSentence (AnnotationUnits [ label ]) 1) }
          { Name = "whole-word"
            Summary = "whole-word masking (BERT WWM) for any vocabulary: 15% of tokens in whole words, 80/10/10"
            Knobs =
              [ pKnob; samplingKnob; replaceKnob "corrupt"; targetKnob "spans" ]
              @ corruptKnobs false
            Build = denoise "whole-word" (fun knobs -> fractionChooser (knobs.Add("unit", Word "word"))) }
          { Name = "bart-infilling"
            Summary =
              "BART text infilling: Poisson(λ=3) span lengths over 30% of tokens, one <mask> per span; full target"
            Knobs =
              [ Knob.number "noise_density" [ "mask" ] 0.3 0.0 1.0 "fraction of units to mask"
                Knob.number "poisson_lambda" [] 3.0 0.01 100.0 "mean span length"
                unitKnob "token"
                replaceKnob "span"
                targetKnob "full" ]
              @ corruptKnobs false
            Build =
              denoise "bart-infilling" (fun knobs ->
                  Choose.spans (segmentation knobs) (Poisson(num knobs "poisson_lambda")) (num knobs "noise_density")) }
          { Name = "spanbert"
            Summary = "SpanBERT: geometric(p=0.2) span lengths up to 10 words over 15% of words, 80/10/10 per span"
            Knobs =
              [ Knob.number "noise_density" [ "mlm_probability" ] 0.15 0.0 1.0 "fraction of units to mask"
                Knob.number "geometric_p" [] 0.2 0.001 1.0 "geometric distribution parameter"
                Knob.integer "max_span" [] 10 1 1000 "longest span, in units"
                unitKnob "word"
                replaceKnob "corrupt"
                targetKnob "spans" ]
              @ corruptKnobs true
            Build =
              denoise "spanbert" (fun knobs ->
                  Choose.spans
                      (segmentation knobs)
                      (Geometric(num knobs "geometric_p", int (num knobs "max_span")))
                      (num knobs "noise_density")) }
          { Name = "t5"
            Summary = "T5 span corruption: 15% noise, mean span 3, a unique sentinel per span in source and target"
            Knobs =
              [ Knob.number "noise_density" [] 0.15 0.0 1.0 "fraction of units to corrupt"
                Knob.number "mean_noise_span_length" [] 3.0 1.0 1000.0 "mean span length"
                unitKnob "token"
                replaceKnob "sentinel"
                targetKnob "sentinels" ]
              @ corruptKnobs false
            Build =
              denoise "t5" (fun knobs ->
                  Choose.spans
                      (segmentation knobs)
                      (MeanLength(num knobs "mean_noise_span_length"))
                      (num knobs "noise_density")) }
          { Name = "pmi"
            Summary =
              "PMI-masking: a vocabulary's collocations (word n-grams by PMI) masked as units, then single words, to 15%"
            Knobs =
              [ Knob.word "vocab" "" "the n-gram vocabulary, a file written by masking pmi-vocab (required)"
                Knob.number "p" [ "mlm_probability" ] 0.15 0.0 1.0 "fraction of tokens to mask"
                Knob.choice
                    "order"
                    "ngrams-first"
                    [ "ngrams-first"; "uniform" ]
                    "spend the budget on collocations first, or draw collocations and other words alike"
                replaceKnob "span"
                targetKnob "spans" ]
              @ corruptKnobs false
            Build =
              fun specials knobs ->
                  let vocabulary =
                      match word knobs "vocab" with
                      | "" -> invalidArg "knobs" "expects vocab=FILE, a vocabulary written by masking pmi-vocab"
                      | "corpus" ->
                          invalidArg
                              "knobs"
                              "vocab=corpus is built by a training stage (intermediate) from its own corpus; here expects vocab=FILE"
                      | path ->
                          match PmiVocabulary.load path with
                          | Error e -> invalidArg "knobs" e
                          | Ok v when v.VocabSize <> specials.VocabSize ->
                              invalidArg
                                  "knobs"
                                  (sprintf
                                      "%s:0: expected a vocabulary built with this tokenizer (%d ids), found one of %d ids"
                                      path
                                      specials.VocabSize
                                      v.VocabSize)
                          | Ok v -> v

                  let p = num knobs "p"

                  let choose _ =
                      match word knobs "order" with
                      | "uniform" -> Choose.budget (NgramUnits(vocabulary, true)) p
                      | _ -> Choose.budgetPreferring (NgramUnits(vocabulary, false)) WordUnits p

                  denoise "pmi" choose specials knobs }
          { Name = "loss-guided"
            Summary =
              "the words a model finds hardest (its loss, or its excess loss over a reference: Rho-1), rescored every N training steps; to a budget"
            Knobs =
              [ Knob.number "budget" [] 0.15 0.0 1.0 "fraction of tokens to mask, the hardest words first"
                Knob.number "tau" [] 0.0 0.0 1000.0 "0: the hardest words; > 0: sampled ∝ exp(loss / tau)"
                Knob.integer "every" [] 100 1 100000000 "training steps between two scorings of the corpus"
                Knob.word
                    "reference"
                    "none"
                    "a model directory: score by the excess of the model's loss over this one's; none: by the loss"
                replaceKnob "span"
                targetKnob "spans" ]
              @ corruptKnobs false
            // The scores are the training stage's (Example.Scores, one per word); this is the choosing part.
            Build =
              denoise "loss-guided" (fun knobs ->
                  let tau = num knobs "tau"
                  Choose.scored 1 (Some(num knobs "budget")) (if tau > 0.0 then Some tau else None)) }
          { Name = "scored"
            Summary =
              "masks from a scorer's span scores: spans per sentence or to a budget, sampled ∝ exp(score/tau) or the best"
            Knobs =
              [ Knob.integer "k" [] 1 1 1000 "spans per sentence (when budget = 0)"
                Knob.number
                    "budget"
                    []
                    0.0
                    0.0
                    1.0
                    "if > 0: best spans until this fraction of tokens, instead of k per sentence"
                Knob.number
                    "tau"
                    []
                    1.0
                    0.0
                    1000.0
                    "sample ∝ exp(score / tau), anew every epoch as the heuristic policies draw; 0: always take the best (greedy)"
                replaceKnob "span"
                targetKnob "bare-spans" ]
              @ corruptKnobs false
            Build =
              denoise "scored" (fun knobs ->
                  let budget = num knobs "budget"
                  let tau = num knobs "tau"

                  Choose.scored
                      (int (num knobs "k"))
                      (if budget > 0.0 then Some budget else None)
                      (if tau > 0.0 then Some tau else None)) } ]

    let tryFind (name: string) =
        all
        |> List.tryFind (fun p -> String.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))

    let names = all |> List.map (fun p -> p.Name)

    /// Validates the given knobs against a policy's, fills in defaults, and builds it.
    let build (specials: SpecialTokens) (info: PolicyInfo) (given: (string * KnobValue) list) : Result<Policy, string> =
        let find (name: string) =
            info.Knobs
            |> List.tryFind (fun k -> k.Name = name || List.contains name k.Aliases)

        // seen: each knob's name → the name (or alias) it was given as.
        let rec fill (acc: Map<string, KnobValue>) (seen: Map<string, string>) =
            function
            | [] -> Ok acc
            | (name, value) :: rest ->
                match find name with
                | None ->
                    Error(
                        sprintf
                            "policy '%s' has no knob '%s'; its knobs: %s"
                            info.Name
                            name
                            (String.Join(", ", info.Knobs |> List.map (fun k -> k.Name)))
                    )
                | Some knob when seen.ContainsKey knob.Name ->
                    Error(
                        sprintf
                            "policy '%s' is given knob '%s' twice (as '%s' and '%s')"
                            info.Name
                            knob.Name
                            seen[knob.Name]
                            name
                    )
                | Some knob ->
                    match knob.Check value with
                    | Error e -> Error(sprintf "knob '%s' of policy '%s' %s" knob.Name info.Name e)
                    | Ok v -> fill (acc.Add(knob.Name, v)) (seen.Add(knob.Name, name)) rest

        let defaults = info.Knobs |> List.map (fun k -> k.Name, k.Default) |> Map.ofList

        fill defaults Map.empty given
        |> Result.bind (fun knobs ->
            try
                Ok(info.Build specials knobs)
            with :? ArgumentException as e ->
                Error(sprintf "policy '%s': %s" info.Name (e.Message.Split(" (Parameter")[0])))
