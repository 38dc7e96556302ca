namespace Masking.World

open System
open Masking
open Masking.Policies
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

    /// Builds the world: both corpora and a split of target subjects into 40% train, 10% dev and 50% test (a
    /// large test split: every test question is a fact the model can only have seen in intermediate pre-training).
    let build (config: WorldConfig) : GeneratedWorld =
        let background, target = Generator.pair config
        let rng = Rng(Seeds.salt "world-corpus" config.Seed)
        let backgroundCorpus = Render.corpus background rng config.Paraphrases
        let targetCorpus = Render.corpus target rng config.Paraphrases

        let subjects =
            target.Facts |> Array.map (fun f -> f.Subject) |> Array.distinct |> Array.sort

        let split = Rng(Seeds.salt "world-split" config.Seed)

        split.Shuffle subjects

        let train, dev = subjects.Length * 2 / 5, subjects.Length / 2

        { Config = config
          Background = background
          Target = target
          BackgroundCorpus = backgroundCorpus
          TargetCorpus = targetCorpus
          TrainSubjects = Set.ofArray subjects[.. train - 1]
          DevSubjects = Set.ofArray subjects[train .. dev - 1]
          TestSubjects = Set.ofArray subjects[dev..] }

    let private subjectsOf (w: GeneratedWorld) =
        function
        | Train -> w.TrainSubjects
        | Dev -> w.DevSubjects
        | Test -> w.TestSubjects

    /// The answers the evaluation asks for, where a target-corpus passage states them: the object of every
    /// sentence of a passage about a test subject (ASKED_TEST) or a dev subject (ASKED_DEV). Every world task's
    /// questions on a split are about its subjects' facts, and a fact is stated only in its subject's passages.
    /// The `oracle` policy masks these; only target-corpus passages may be given (the background world's ids
    /// are another world's).
    let askedSpans (w: GeneratedWorld) (p: Passage) : (Span * string)[] =
        let label =
            if w.TestSubjects.Contains p.Entity then
                Some Annotation.askedTest
            elif w.DevSubjects.Contains p.Entity then
                Some Annotation.askedDev
            else
                None

        match label with
        | Some l -> p.Objects |> Array.map (fun (span, _) -> span, l)
        | None -> [||]

    let private factsOf (w: GeneratedWorld) split =
        let subjects = subjectsOf w split
        w.Target.Facts |> Array.filter (fun f -> subjects.Contains f.Subject)

    let private fill (template: string) (subject: string) = template.Replace("{S}", subject)

    let private rngFor (w: GeneratedWorld) (task: string) (split: Split) =
        Rng(Seeds.salt (task + ":" + Split.name split) w.Config.Seed)

    /// "date of birth" → "date-of-birth": the relation's part of an example id.
    let relationSlug (relation: Relation) =
        (Relation.name relation).Replace(' ', '-')

    /// Example ids name the relation asked about (`world-cbqa-test-occupation-17`), so that results can be split
    /// by relation from predictions alone.
    let private id task split (relation: Relation) i =
        sprintf "%s-%s-%s-%d" task (Split.name split) (relationSlug relation) i

    /// The relation an example id names, when it is a world example's.
    let relationOfId (exampleId: string) =
        if exampleId.StartsWith "world-" then
            Relation.all
            |> List.tryFind (fun r -> exampleId.Contains("-" + relationSlug r + "-"))
        else
            None

    /// A closed-book question about one fact → its object.
    let private question (w: GeneratedWorld) (rng: Rng) task split i (f: Fact) =
        let options = questions f.Relation
        let name = w.Target.Entities[f.Subject].Name

        TaskExample.create
            (id task split f.Relation i)
            (fill options[rng.NextInt options.Length] name)
            [ FactValue.render w.Target f.Value ]

    /// Each task's examples with the subject they are about (learned policies take their contexts from it).
    let private closedBookAbout (w: GeneratedWorld) (split: Split) =
        let rng = rngFor w "world-cbqa" split

        [ for i, f in factsOf w split |> Array.indexed -> question w rng "world-cbqa" split i f, f.Subject ]

    let private occupationAbout (w: GeneratedWorld) (split: Split) =
        let rng = rngFor w "world-occupation" split

        [ for i, f in
              factsOf w split
              |> Array.filter (fun f -> f.Relation = Occupation)
              |> Array.indexed -> question w rng "world-occupation" split i f, f.Subject ]

    let private slotFillingAbout (w: GeneratedWorld) (split: Split) =
        [ for i, f in factsOf w split |> Array.indexed ->
              TaskExample.create
                  (id "world-slot" split f.Relation i)
                  (sprintf "%s [SEP] %s" w.Target.Entities[f.Subject].Name (Relation.name f.Relation))
                  [ FactValue.render w.Target f.Value ],
              f.Subject ]

    let private contextQAAbout (w: GeneratedWorld) (split: Split) =
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
                      { Id = id "world-cqa" split f.Relation i
                        Source = sprintf "%s (A) %s (B) %s [SEP] %s" question options[0] options[1] paragraph
                        Targets = [ answer ]
                        Context = Some paragraph
                        Options = options },
                      f.Subject ]

    /// The canonical description of a subject: each of its facts in the first paraphrase, in relation order.
    let description (world: WorldData) (subject: int) =
        let facts =
            world.Facts
            |> Array.filter (fun f -> f.Subject = subject)
            |> Array.sortBy (fun f -> List.findIndex ((=) f.Relation) Relation.all)

        String.Join(" ", facts |> Array.map (fun f -> Render.canonical world f))

    let private biographyAbout (w: GeneratedWorld) (split: Split) =
        let subjects = subjectsOf w split

        [ for i, e in
              w.Target.Entities
              |> Array.filter (fun e -> subjects.Contains e.Id && (e.Kind = Person || e.Kind = Organisation))
              |> Array.indexed ->
              TaskExample.create
                  (sprintf "world-bio-%s-%d" (Split.name split) i)
                  (sprintf "Tell me about %s." e.Name)
                  [ description w.Target e.Id ],
              e.Id ]

    let private about =
        [ "world-cbqa", closedBookAbout
          "world-occupation", occupationAbout
          "world-slot", slotFillingAbout
          "world-cqa", contextQAAbout
          "world-bio", biographyAbout ]

    let private examplesOf name =
        let make = about |> List.find (fst >> (=) name) |> snd
        fun w split -> make w split |> List.map fst

    /// Closed-book QA: a question about a fact → its object. Held-out subjects' facts are only in the IPT corpus.
    let closedBook (w: GeneratedWorld) (split: Split) = examplesOf "world-cbqa" w split

    /// Closed-book QA about one relation, occupations: the world's TriviaQA, where `ssm` spends none of its
    /// masks on the answers (occupations are no salient spans) and a policy learned on the task can spend most.
    let occupation (w: GeneratedWorld) (split: Split) = examplesOf "world-occupation" w split

    /// Slot filling, as zsRE: "subject [SEP] relation" → object.
    let slotFilling (w: GeneratedWorld) (split: Split) = examplesOf "world-slot" w split

    /// Context QA with options: a paragraph about the subject, a question, the right object and a distractor.
    let contextQA (w: GeneratedWorld) (split: Split) = examplesOf "world-cqa" w split

    /// A long output: a person or organisation → every fact about it, one sentence each (3–4 sentences).
    let biography (w: GeneratedWorld) (split: Split) = examplesOf "world-bio" w split

    /// A world task's examples, each with the subject it is about (None for a task not of the world).
    let examplesAbout (task: string) (w: GeneratedWorld) (split: Split) : (TaskExample * int) list option =
        about
        |> List.tryFind (fst >> (=) task)
        |> Option.map (fun (_, make) -> make w split)

    /// The intermediate pre-training passages about a subject: each states every fact of that subject.
    let passagesAbout (w: GeneratedWorld) (subject: int) =
        w.TargetCorpus |> Array.filter (fun p -> p.Entity = subject)

    /// A stable fingerprint of everything the world generates (corpora and tasks), for golden tests.
    let fingerprint (w: GeneratedWorld) =
        use sha = Security.Cryptography.SHA256.Create()
        let sb = Text.StringBuilder()

        for p in Array.append w.BackgroundCorpus w.TargetCorpus do
            sb.Append(p.Text).Append('\n') |> ignore

            for s, label in p.Spans do
                sb.Append(sprintf "%d %d %s;" s.Start s.End label) |> ignore

            sb.Append('\n') |> ignore

        for task in [ closedBook; occupation; slotFilling; contextQA; biography ] do
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
