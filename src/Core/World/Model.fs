namespace Masking.World

open Masking

type EntityKind =
    | Person
    | Place
    | Organisation
    | Country

type Entity =
    { Id: int
      Kind: EntityKind
      Name: string }

/// A fact's object: another entity, a date, a year or a word (an occupation).
type FactValue =
    | EntityValue of int
    | DateValue of year: int * month: int * day: int
    | YearValue of int
    | WordValue of string

/// The relations of the world, with how questions and slot-filling inputs name them.
type Relation =
    | BirthDate
    | BirthPlace
    | Occupation
    | Employer
    | Founder
    | Headquarters
    | FoundingYear
    | LocatedIn

type Fact =
    { Subject: int
      Relation: Relation
      Value: FactValue }

/// One world: entities and the facts about them.
type WorldData = { Entities: Entity[]; Facts: Fact[] }

/// A rendered paragraph with its sentences and salient spans (character offsets), so `ssm` needs no tagger.
type Passage =
    {
        Entity: int
        Text: string
        Sentences: Span[]
        /// (span, label): PER, LOC, ORG, DATE (the salient spans ssm masks).
        Spans: (Span * string)[]
        /// Each sentence's object: where the value of the fact it states is written (occupations included).
        Objects: (Span * Fact)[]
        /// Each sentence's subject: where the name of the fact's subject is written.
        Subjects: (Span * Fact)[]
    }

module Relation =
    let name =
        function
        | BirthDate -> "date of birth"
        | BirthPlace -> "place of birth"
        | Occupation -> "occupation"
        | Employer -> "employer"
        | Founder -> "founded by"
        | Headquarters -> "headquarters location"
        | FoundingYear -> "inception"
        | LocatedIn -> "country"

    let all =
        [ BirthDate
          BirthPlace
          Occupation
          Employer
          Founder
          Headquarters
          FoundingYear
          LocatedIn ]

module FactValue =
    let months =
        [| "January"
           "February"
           "March"
           "April"
           "May"
           "June"
           "July"
           "August"
           "September"
           "October"
           "November"
           "December" |]

    let render (world: WorldData) =
        function
        | EntityValue id -> world.Entities[id].Name
        | DateValue(y, m, d) -> sprintf "%d %s %d" d months[m - 1] y
        | YearValue y -> string y
        | WordValue w -> w

    let label (world: WorldData) =
        function
        | EntityValue id ->
            match world.Entities[id].Kind with
            | Person -> "PER"
            | Place
            | Country -> "LOC"
            | Organisation -> "ORG"
        | DateValue _ -> "DATE"
        | YearValue _ -> "DATE"
        | WordValue _ -> "MISC"

module EntityKind =
    let label =
        function
        | Person -> "PER"
        | Place
        | Country -> "LOC"
        | Organisation -> "ORG"
