module Masking.Tests.SentencesTests

open Xunit
open FsCheck
open FsCheck.Xunit
open Masking
open Masking.Text

/// The mapping as it was written first: a scan from each end for every range (quadratic, kept as the reference).
let private reference (offsets: Span[]) (charSpans: Span[]) : Span[] =
    [| for c in charSpans do
           let first = offsets |> Array.tryFindIndex (fun o -> o.End > c.Start)
           let last = offsets |> Array.tryFindIndexBack (fun o -> o.Start < c.End)

           match first, last with
           | Some a, Some b when a <= b -> { Start = a; End = b + 1 }
           | _ -> () |]

let private span (a: int) (b: int) = { Start = min a b; End = max a b }

[<Property(MaxTest = 500, Replay = "(777,889)")>]
let ``token spans by binary search are those of the scans, for any offsets, overlapping or out of order``
    (offsets: (NonNegativeInt * NonNegativeInt) list)
    (ranges: (NonNegativeInt * NonNegativeInt) list)
    =
    let offsets =
        offsets
        |> List.map (fun (a, b) -> span (a.Get % 300) (b.Get % 300))
        |> Array.ofList

    let ranges =
        ranges
        |> List.map (fun (a, b) -> span (a.Get % 320) (b.Get % 320))
        |> Array.ofList

    Sentences.toTokenSpans offsets ranges = reference offsets ranges

[<Fact>]
let ``salient spans of one long line are those of its sentences, shifted`` () =
    let sentence =
        "Ada Lovelace met Charles Babbage in London on 3 March 1833 with 12 friends."

    let one = SalientSpans.find sentence
    let line = String.replicate 200 (sentence + " ")
    let many = SalientSpans.find line
    Assert.Equal(200 * one.Length, many.Length)

    for i, (s, label) in Array.indexed many do
        let o, l = one[i % one.Length]

        Assert.Equal(
            (o.Start + (sentence.Length + 1) * (i / one.Length), o.End + (sentence.Length + 1) * (i / one.Length), l),
            (s.Start, s.End, label)
        )
