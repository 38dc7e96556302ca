namespace Masking.World

open System
open Masking
open Masking.Tasks

/// A generated world ready for the protocol: both corpora and the target world's tasks.
type GeneratedWorld =
    {
        Config: WorldConfig
        Background: WorldData
        Target: WorldData
        /// General pre-training corpus (the background world: language, not the target facts).
        BackgroundCorpus: Passage[]
        /// Intermediate pre-training corpus (the target world).
        TargetCorpus: Passage[]
        /// Target-world subjects whose facts fine-tuning asks about; the rest are asked only in evaluation.
        TrainSubjects: Set<int>
        DevSubjects: Set<int>
        TestSubjects: Set<int>
    }

/// The tasks derived from the target world, one per family.
module WorldTasks =
    let private questions =
        function
        | BirthDate -> [ "When was {S} born?"; "What is the date of birth of {S}?" ]
        | BirthPlace -> [ "Where was {S} born?"; "What is the birthplace of {S}?" ]
        | Occupation -> [ "What is the occupation of {S}?"; "What does {S} do for a living?" ]
        | Employer -> [ "Who employs {S}?"; "Which organisation does {S} work for?" ]
        | Founder -> [ "Who founded {S}?"; "Who is the founder of {S}?" ]
        | Headquarters -> [ "Where is {S} headquartered?"; "Where are the headquarters of {S}?" ]
        | FoundingYear -> [ "When was {S} founded?"; "In which year was {S} established?" ]
        | LocatedIn -> [ "In which country is {S}?"; "Which country is {S} in?" ]

    /// Builds the world: both corpora and a split of target subjects into 50% train, 25% dev, 25% test.
    let build (config: WorldConfig) : GeneratedWorld =
        let background, target = Generator.pair config
        let rng = Rng(Seeds.salt "world-corpus" config.Seed)
        let backgroundCorpus = Render.corpus background rng config.Paraphrases
        let targetCorpus = Render.corpus target rng config.Paraphrases

        let subjects =
            target.Facts |> Array.map (fun f -> f.Subject) |> Array.distinct |> Array.sort

        let split = Rng(Seeds.salt "world-split" config.Seed)

        split.Shuffle subjects

        let half, threeQuarters = subjects.Length / 2, subjects.Length * 3 / 4

        { Config = config
          Background = background
          Target = target
          BackgroundCorpus = backgroundCorpus
          TargetCorpus = targetCorpus
          TrainSubjects = Set.ofArray subjects[.. half - 1]
          DevSubjects = Set.ofArray subjects[half .. threeQuarters - 1]
          TestSubjects = Set.ofArray subjects[threeQuarters..] }

    let private subjectsOf (w: GeneratedWorld) =
        function
        | Train -> w.TrainSubjects
        | Dev -> w.DevSubjects
        | Test -> w.TestSubjects

    let private factsOf (w: GeneratedWorld) split =
        let subjects = subjectsOf w split
        w.Target.Facts |> Array.filter (fun f -> subjects.Contains f.Subject)

    let private fill (template: string) (subject: string) = template.Replace("{S}", subject)

    let private rngFor (w: GeneratedWorld) (task: string) (split: Split) =
        Rng(Seeds.salt (task + ":" + Split.name split) w.Config.Seed)

    /// Closed-book QA: a question about a fact → its object. Held-out subjects' facts are only in the IPT corpus.
    let closedBook (w: GeneratedWorld) (split: Split) : TaskExample list =
        let rng = rngFor w "world-cbqa" split

        [ for i, f in factsOf w split |> Array.indexed do
              let options = questions f.Relation
              let name = w.Target.Entities[f.Subject].Name

              yield
                  TaskExample.create
                      (sprintf "world-cbqa-%s-%d" (Split.name split) i)
                      (fill options[rng.NextInt options.Length] name)
                      [ FactValue.render w.Target f.Value ] ]

    /// Slot filling, as zsRE: "subject [SEP] relation" → object.
    let slotFilling (w: GeneratedWorld) (split: Split) : TaskExample list =
        [ for i, f in factsOf w split |> Array.indexed ->
              TaskExample.create
                  (sprintf "world-slot-%s-%d" (Split.name split) i)
                  (sprintf "%s [SEP] %s" w.Target.Entities[f.Subject].Name (Relation.name f.Relation))
                  [ FactValue.render w.Target f.Value ] ]

    /// Context QA with options: a paragraph about the subject, a question, the right object and a distractor.
    let contextQA (w: GeneratedWorld) (split: Split) : TaskExample list =
        let rng = rngFor w "world-cqa" split

        let valuesOf relation =
            w.Target.Facts
            |> Array.filter (fun f -> f.Relation = relation)
            |> Array.map (fun f -> FactValue.render w.Target f.Value)
            |> Array.distinct

        [ for i, f in factsOf w split |> Array.indexed do
              let answer = FactValue.render w.Target f.Value
              let others = valuesOf f.Relation |> Array.filter ((<>) answer)

              if others.Length > 0 then
                  let distractor = others[rng.NextInt others.Length]

                  let options =
                      if rng.NextDouble() < 0.5 then
                          [ answer; distractor ]
                      else
                          [ distractor; answer ]

                  let paragraph = (Render.passage w.Target rng f.Subject).Text
                  let question = fill (questions f.Relation).Head w.Target.Entities[f.Subject].Name

                  yield
                      { Id = sprintf "world-cqa-%s-%d" (Split.name split) i
                        Source = sprintf "%s (A) %s (B) %s [SEP] %s" question options[0] options[1] paragraph
                        Targets = [ answer ]
                        Context = Some paragraph
                        Options = options } ]

    /// A stable fingerprint of everything the world generates (corpora and tasks), for golden tests.
    let fingerprint (w: GeneratedWorld) =
        use sha = Security.Cryptography.SHA256.Create()
        let sb = Text.StringBuilder()

        for p in Array.append w.BackgroundCorpus w.TargetCorpus do
            sb.Append(p.Text).Append('\n') |> ignore

            for s, label in p.Spans do
                sb.Append(sprintf "%d %d %s;" s.Start s.End label) |> ignore

            sb.Append('\n') |> ignore

        for task in [ closedBook; slotFilling; contextQA ] do
            for split in [ Train; Dev; Test ] do
                for e in task w split do
                    sb
                        .Append(e.Id)
                        .Append('\t')
                        .Append(e.Source)
                        .Append('\t')
                        .Append(String.Join("|", e.Targets))
                        .Append('\n')
                    |> ignore

        Convert.ToHexString(sha.ComputeHash(Text.Encoding.UTF8.GetBytes(sb.ToString()))).ToLowerInvariant()
