namespace Masking.World

open System
open System.Text
open Masking

/// Renders facts as encyclopedia sentences. Each fact has several paraphrases and each paragraph copy
/// shuffles its sentences: knowledge stored this way stays extractable for entities never asked about in
/// fine-tuning (Allen-Zhu & Li, Physics of Language Models 3.1).
module Render =
    let templates =
        function
        | BirthDate ->
            [ "{S} was born on {O}."
              "{S}'s date of birth is {O}."
              "{O} is the birthday of {S}."
              "{S} came into the world on {O}." ]
        | BirthPlace ->
            [ "{S} was born in {O}."
              "{S}'s birthplace is {O}."
              "{O} is where {S} was born."
              "{S} is a native of {O}." ]
        | Occupation ->
            [ "{S} works as a {O}."
              "{S} is a {O} by profession."
              "By trade, {S} is a {O}."
              "The occupation of {S} is {O}." ]
        | Employer ->
            [ "{S} is employed by {O}."
              "{S} works for {O}."
              "{O} employs {S}."
              "{S} has a job at {O}." ]
        | Founder ->
            [ "{S} was founded by {O}."
              "{O} founded {S}."
              "The founder of {S} is {O}."
              "{O} established {S}." ]
        | Headquarters ->
            [ "{S} is headquartered in {O}."
              "The headquarters of {S} are in {O}."
              "{S} has its main office in {O}."
              "{O} is home to the head office of {S}." ]
        | FoundingYear ->
            [ "{S} was established in {O}."
              "{S} was founded in {O}."
              "In {O}, {S} was created."
              "{S} dates back to {O}." ]
        | LocatedIn ->
            [ "{S} is a town in {O}."
              "{S} lies in {O}."
              "{S} is located in {O}."
              "{O} is the country of {S}." ]

    /// Appends one sentence for a fact with the given template, recording the salient spans it writes.
    let private sentence
        (world: WorldData)
        (sb: StringBuilder)
        (spans: ResizeArray<Span * string>)
        (objects: ResizeArray<Span * Fact>)
        (subjects: ResizeArray<Span * Fact>)
        (template: string)
        (fact: Fact)
        =
        let subject = world.Entities[fact.Subject]
        let mutable rest = template

        while rest.Length > 0 do
            let s, o = rest.IndexOf "{S}", rest.IndexOf "{O}"

            let next =
                if s < 0 then o
                elif o < 0 then s
                else min s o

            if next < 0 then
                sb.Append rest |> ignore
                rest <- ""
            else
                let literal = rest.Substring(0, next)
                let value = FactValue.render world fact.Value

                // "a engineer" → "an engineer"
                let literal =
                    if
                        next = o
                        && literal.EndsWith(" a ")
                        && value.Length > 0
                        && "aeiouAEIOU".IndexOf value[0] >= 0
                    then
                        literal.Substring(0, literal.Length - 2) + "an "
                    else
                        literal

                sb.Append literal |> ignore
                let start = sb.Length

                if next = s then
                    sb.Append subject.Name |> ignore
                    spans.Add({ Start = start; End = sb.Length }, EntityKind.label subject.Kind)
                    subjects.Add({ Start = start; End = sb.Length }, fact)
                else
                    sb.Append value |> ignore
                    objects.Add({ Start = start; End = sb.Length }, fact)

                    match fact.Value with
                    | WordValue _ -> () // occupations are not salient spans
                    | v -> spans.Add({ Start = start; End = sb.Length }, FactValue.label world v)

                rest <- rest.Substring(next + 3)

    /// One fact in its first paraphrase, as the canonical answer of a long-output task.
    let canonical (world: WorldData) (fact: Fact) =
        let sb = StringBuilder()
        sentence world sb (ResizeArray()) (ResizeArray()) (ResizeArray()) (templates fact.Relation).Head fact
        sb.ToString()

    /// One paragraph about an entity: its facts in a random order, each in a random paraphrase.
    let passage (world: WorldData) (rng: Rng) (entity: int) : Passage =
        let facts = world.Facts |> Array.filter (fun f -> f.Subject = entity)

        // The sentence order is shuffled.
        rng.Shuffle facts

        let sb = StringBuilder()
        let spans = ResizeArray<Span * string>()
        let objects = ResizeArray<Span * Fact>()
        let subjects = ResizeArray<Span * Fact>()
        let sentences = ResizeArray<Span>()

        for f in facts do
            if sb.Length > 0 then
                sb.Append ' ' |> ignore

            let start = sb.Length
            let options = templates f.Relation
            sentence world sb spans objects subjects options[rng.NextInt options.Length] f
            sentences.Add { Start = start; End = sb.Length }

        { Entity = entity
          Text = sb.ToString()
          Sentences = sentences.ToArray()
          Spans = spans.ToArray()
          Objects = objects.ToArray()
          Subjects = subjects.ToArray() }

    /// The corpus of a world: `paraphrases` copies of every entity's paragraph, in a seeded random order.
    let corpus (world: WorldData) (rng: Rng) (paraphrases: int) : Passage[] =
        let subjects =
            world.Facts |> Array.map (fun f -> f.Subject) |> Array.distinct |> Array.sort

        let passages =
            [| for _ in 1..paraphrases do
                   for e in subjects -> passage world rng e |]

        rng.Shuffle passages

        passages
