module Masking.Tests.WorldTests

open System
open System.IO
open Xunit
open Masking.World
open Masking.Tasks
open Masking.Tests.TestData

let private world = lazy (WorldTasks.build WorldConfig.defaults)

[<Fact>]
let ``the world is deterministic and its seed matters`` () =
    let again = WorldTasks.build WorldConfig.defaults
    Assert.Equal(WorldTasks.fingerprint world.Value, WorldTasks.fingerprint again)
    let other = WorldTasks.build { WorldConfig.defaults with Seed = 1UL }
    Assert.NotEqual<string>(WorldTasks.fingerprint world.Value, WorldTasks.fingerprint other)

[<Fact>]
let ``the default world matches its golden fingerprint and sample`` () =
    let dir = Path.Combine(repoRoot.Value, "golden", "world")
    let w = world.Value

    let sample =
        [ yield "# fingerprint " + WorldTasks.fingerprint w
          yield "# first target paragraphs"
          yield! w.TargetCorpus |> Array.truncate 8 |> Array.map (fun p -> p.Text)
          yield "# first background paragraphs"
          yield! w.BackgroundCorpus |> Array.truncate 4 |> Array.map (fun p -> p.Text)
          for name, make in
              [ "world-cbqa", WorldTasks.closedBook
                "world-occupation", WorldTasks.occupation
                "world-slot", WorldTasks.slotFilling
                "world-cqa", WorldTasks.contextQA
                "world-bio", WorldTasks.biography ] do
              for split in [ Train; Dev; Test ] do
                  yield sprintf "# %s %s" name (Split.name split)

                  for e in make w split |> List.truncate 3 do
                      yield sprintf "%s\t%s\t%s" e.Id e.Source (String.Join(" | ", e.Targets)) ]
        |> String.concat "\n"

    let path = Path.Combine(dir, "default-world.txt")

    if Environment.GetEnvironmentVariable "MASKING_REGENERATE_GOLDEN" = "1" then
        File.WriteAllText(path, sample + "\n")
    else
        Assert.True(File.Exists path, path + " is missing; see golden/README.md")
        Assert.Equal(File.ReadAllText path, sample + "\n")

[<Fact>]
let ``background and target worlds share no name`` () =
    let names (d: WorldData) =
        d.Entities |> Array.map (fun e -> e.Name) |> Set.ofArray

    Assert.Empty(Set.intersect (names world.Value.Background) (names world.Value.Target))

[<Fact>]
let ``held-out facts are asked only in evaluation and appear in the intermediate pre-training corpus`` () =
    let w = world.Value
    Assert.Empty(Set.intersect w.TrainSubjects w.DevSubjects)
    Assert.Empty(Set.intersect w.TrainSubjects w.TestSubjects)
    Assert.Empty(Set.intersect w.DevSubjects w.TestSubjects)
    let trainQuestions = WorldTasks.closedBook w Train |> List.map (fun e -> e.Source)

    for e in WorldTasks.closedBook w Test do
        let subject =
            w.Target.Entities
            |> Array.find (fun x -> e.Source.Contains x.Name && w.TestSubjects.Contains x.Id)

        Assert.DoesNotContain(trainQuestions, fun q -> q.Contains subject.Name)
        // The answer is stated in some target paragraph about the subject.
        Assert.Contains(w.TargetCorpus, fun p -> p.Entity = subject.Id && p.Text.Contains e.Targets.Head)

    // The background corpus never mentions a target fact's subject.
    for p in w.BackgroundCorpus do
        for e in w.Target.Entities do
            Assert.False(p.Text.Contains(e.Name + " "), e.Name)

[<Fact>]
let ``each fact is rendered in several paraphrases and sentence orders`` () =
    let w = world.Value
    let people = w.Target.Entities |> Array.filter (fun e -> e.Kind = Person)

    let distinctOrders =
        people
        |> Array.filter (fun e ->
            let copies =
                w.TargetCorpus
                |> Array.filter (fun p -> p.Entity = e.Id)
                |> Array.map (fun p -> p.Text)

            Assert.Equal(WorldConfig.defaults.Paraphrases, copies.Length)
            (Array.distinct copies).Length > 1)

    Assert.Equal(people.Length, distinctOrders.Length)
    // Every relation has several templates, and the corpus uses more than one of them.
    for r in Relation.all do
        Assert.True((Render.templates r).Length >= 3)

[<Fact>]
let ``salient spans cover entity names and dates exactly`` () =
    for p in world.Value.TargetCorpus do
        for span, label in p.Spans do
            let text = p.Text.Substring(span.Start, span.Length)
            Assert.Contains(label, [ "PER"; "LOC"; "ORG"; "DATE" ])

            if label <> "DATE" then
                Assert.Contains(world.Value.Target.Entities, fun e -> e.Name = text)

        Assert.Equal(p.Text.Length, (Array.last p.Sentences).End)

[<Fact>]
let ``the world's size follows its knob`` () =
    let small =
        WorldTasks.build
            { WorldConfig.defaults with
                People = 20 }

    let large =
        WorldTasks.build
            { WorldConfig.defaults with
                People = 200 }

    Assert.True(large.Target.Entities.Length > 5 * small.Target.Entities.Length / 2)
    Assert.True((WorldTasks.closedBook large Train).Length > (WorldTasks.closedBook small Train).Length)

[<Fact>]
let ``world tasks load through the registry without a data root`` () =
    for name in [ "world-cbqa"; "world-occupation"; "world-slot"; "world-cqa"; "world-bio" ] do
        let task = Registry.find name |> Result.defaultWith failwith

        for split in [ Train; Dev; Test ] do
            let xs = task.Load "/nonexistent" split |> Result.defaultWith failwith
            Assert.NotEmpty xs

    let cqa = WorldTasks.contextQA world.Value Dev
    Assert.All(cqa, fun e -> Assert.Contains(e.Targets.Head, e.Options))

[<Fact>]
let ``ids name the relation asked about, and the single-relation task asks only about occupations`` () =
    let w = world.Value
    let test = WorldTasks.closedBook w Test
    // A test split large enough for intervals: every question is about a fact seen only in IPT.
    Assert.True(test.Length >= 200, sprintf "%d test questions" test.Length)

    for e in test do
        Assert.True((WorldTasks.relationOfId e.Id).IsSome, e.Id)

    let occupations = WorldTasks.occupation w Test
    Assert.NotEmpty occupations
    Assert.All(occupations, fun e -> Assert.Equal(Some Occupation, WorldTasks.relationOfId e.Id))
    Assert.All(occupations, fun e -> Assert.Contains(e.Targets.Head, Generator.occupations))
    Assert.Equal(None, WorldTasks.relationOfId "nq-dev-occupation-3")

[<Fact>]
let ``a biography states every fact of its subject, and a subject's passages state the fact asked about`` () =
    let w = world.Value

    let subjects =
        (WorldTasks.examplesAbout "world-bio" w Test).Value
        |> List.map (fun (e, s) -> e.Id, s)
        |> Map.ofList

    for e in WorldTasks.biography w Test do
        let subject = subjects[e.Id]
        let facts = w.Target.Facts |> Array.filter (fun f -> f.Subject = subject)
        Assert.True(facts.Length >= 3)
        let sentences = e.Targets.Head.Split(". ")
        Assert.Equal(facts.Length, sentences.Length)

        for f in facts do
            Assert.Contains(FactValue.render w.Target f.Value, e.Targets.Head)

    let about =
        (WorldTasks.examplesAbout "world-cbqa" w Train).Value
        |> List.map (fun (e, s) -> e.Id, s)
        |> Map.ofList

    for e in WorldTasks.closedBook w Train do
        let passages = WorldTasks.passagesAbout w about[e.Id]
        Assert.Equal(WorldConfig.defaults.Paraphrases, passages.Length)
        Assert.All(passages, fun p -> Assert.Contains(e.Targets.Head, p.Text))

    Assert.True((WorldTasks.examplesAbout "nq" w Train).IsNone)
