namespace Masking.World

open Masking

/// The generated world's one size knob and its seed. Places, organisations and countries scale with people.
type WorldConfig =
    {
        Seed: uint64
        /// People in each of the two worlds (background and target).
        People: int
        /// Paragraph copies per entity, each with its own paraphrases and sentence order.
        Paraphrases: int
    }

module WorldConfig =
    /// Small enough for the whole demo protocol to run in minutes on two cores.
    let defaults =
        { Seed = 0UL
          People = 120
          Paraphrases = 4 }

module Generator =
    let occupations =
        [| "violinist"
           "architect"
           "botanist"
           "cartographer"
           "glassblower"
           "astronomer"
           "engineer"
           "poet"
           "sculptor"
           "physician"
           "chemist"
           "historian"
           "linguist"
           "pilot"
           "baker"
           "judge"
           "weaver"
           "geologist" |]

    /// One world of entities and facts. Every person has a birth date, birth place, occupation and employer;
    /// every organisation a founder, headquarters and founding year; every place a country.
    let generate (names: NameGenerator) (rng: Rng) (people: int) : WorldData =
        let countries = max 2 (people / 20)
        let places = max 4 (people / 4)
        let organisations = max 3 (people / 5)
        let entities = ResizeArray<Entity>()

        let add kind name =
            entities.Add
                { Id = entities.Count
                  Kind = kind
                  Name = name }

            entities.Count - 1

        let countryIds = [| for _ in 1..countries -> add Country (names.Country()) |]
        let placeIds = [| for _ in 1..places -> add Place (names.Place()) |]

        let organisationIds =
            [| for _ in 1..organisations -> add Organisation (names.Organisation()) |]

        let personIds = [| for _ in 1..people -> add Person (names.Person()) |]
        let pick (ids: int[]) = ids[rng.NextInt ids.Length]

        let facts =
            [| for p in placeIds do
                   yield
                       { Subject = p
                         Relation = LocatedIn
                         Value = EntityValue(pick countryIds) }
               for o in organisationIds do
                   yield
                       { Subject = o
                         Relation = Founder
                         Value = EntityValue(pick personIds) }

                   yield
                       { Subject = o
                         Relation = Headquarters
                         Value = EntityValue(pick placeIds) }

                   yield
                       { Subject = o
                         Relation = FoundingYear
                         Value = YearValue(1700 + rng.NextInt 290) }
               for p in personIds do
                   yield
                       { Subject = p
                         Relation = BirthDate
                         Value = DateValue(1800 + rng.NextInt 190, 1 + rng.NextInt 12, 1 + rng.NextInt 28) }

                   yield
                       { Subject = p
                         Relation = BirthPlace
                         Value = EntityValue(pick placeIds) }

                   yield
                       { Subject = p
                         Relation = Occupation
                         Value = WordValue occupations[rng.NextInt occupations.Length] }

                   yield
                       { Subject = p
                         Relation = Employer
                         Value = EntityValue(pick organisationIds) } |]

        { Entities = entities.ToArray()
          Facts = facts }

    /// The background world (general pre-training) and the target world (intermediate pre-training and the
    /// tasks), from one seed, with no name in common.
    let pair (config: WorldConfig) : WorldData * WorldData =
        let rng = Rng(Seeds.salt "world" config.Seed)
        let names = NameGenerator(rng)
        let background = generate names rng config.People
        let target = generate names rng config.People
        background, target
