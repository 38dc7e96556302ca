namespace Masking.World

open System
open System.Collections.Generic
open Masking

/// Pronounceable fictional names from syllables; a name is never reused within one generator, so the
/// background and target worlds drawn from one generator share no names.
type NameGenerator(rng: Rng) =
    static let onsets =
        [| "b"
           "d"
           "f"
           "g"
           "h"
           "k"
           "l"
           "m"
           "n"
           "p"
           "r"
           "s"
           "t"
           "v"
           "z"
           "br"
           "dr"
           "kr"
           "st"
           "th"
           "sh"
           "gr"
           "tr" |]

    static let vowels = [| "a"; "e"; "i"; "o"; "u"; "ai"; "ei"; "ou"; "ia" |]
    static let codas = [| ""; ""; ""; "n"; "r"; "l"; "s"; "th"; "nd"; "rk"; "sh"; "m" |]
    let used = HashSet<string>(StringComparer.OrdinalIgnoreCase)

    let word (minSyllables: int) (maxSyllables: int) =
        let n = minSyllables + rng.NextInt(maxSyllables - minSyllables + 1)

        let parts =
            [ for i in 1..n ->
                  let coda = if i = n then codas[rng.NextInt codas.Length] else ""
                  onsets[rng.NextInt onsets.Length] + vowels[rng.NextInt vowels.Length] + coda ]

        let w = String.Concat parts
        string (Char.ToUpperInvariant w[0]) + w.Substring 1

    member _.Fresh(make: unit -> string) =
        let mutable name = make ()

        while not (used.Add name) do
            name <- make ()

        name

    member g.Person() =
        g.Fresh(fun () -> word 2 3 + " " + word 2 3)

    member g.Place() = g.Fresh(fun () -> word 2 3)

    member g.Organisation() =
        let kinds =
            [| "Institute"
               "Company"
               "Foundation"
               "Works"
               "Society"
               "Trust"
               "Laboratories"
               "Guild" |]

        g.Fresh(fun () -> word 2 3 + " " + kinds[rng.NextInt kinds.Length])

    member g.Country() =
        g.Fresh(fun () -> word 2 3 + (if rng.NextDouble() < 0.5 then "ia" else "land"))
