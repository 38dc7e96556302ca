module Masking.Tests.SpecTests

open Xunit
open Masking.Policies
open Masking.Tests.TestData

let private parse s =
    PolicySpec.parse s |> Result.defaultWith failwith

[<Fact>]
let ``parses names, knobs, mixtures, schedules, unions and restrictions`` () =
    Assert.Equal(NamedSpec("rand", [ "p", Number 0.15 ]), parse "rand:p=0.15")

    Assert.Equal(
        NamedSpec("t5", [ "noise_density", Number 0.3; "mean_noise_span_length", Number 5.0 ]),
        parse "t5:noise_density=0.3,mean_noise_span_length=5"
    )

    Assert.Equal(MixSpec [ NamedSpec("ssm", []), 0.5; NamedSpec("rand", []), 0.5 ], parse "mix(ssm:0.5,rand:0.5)")

    Assert.Equal(
        MixSpec
            [ NamedSpec("rand", [ "p", Number 0.2; "unit", Word "word" ]), 0.3
              NamedSpec("ssm", []), 0.7 ],
        parse "mix( rand:p=0.2,unit=word:0.3 , ssm:0.7 )"
    )

    Assert.Equal(
        ScheduleSpec [ NamedSpec("rand", []), 0L; NamedSpec("ssm", []), 1000L ],
        parse "schedule(rand@0,ssm@1000)"
    )

    Assert.Equal(
        UnionSpec [ NamedSpec("ssm", []); NamedSpec("rand", [ "p", Number 0.05 ]) ],
        parse "union(ssm,rand:p=0.05)"
    )

    Assert.Equal(
        WithinSpec(NamedSpec("rand", [ "p", Number 0.5 ]), [ "PER"; "DATE" ]),
        parse "within(rand:p=0.5,PER|DATE)"
    )

[<Fact>]
let ``format and parse round-trip`` () =
    for s in
        [ "rand:p=0.15"
          "mix(ssm:0.5,rand:p=0.2,unit=word:0.5)"
          "schedule(rand@0,ssm@1000)"
          "union(ssm,t5)"
          "within(rand:p=0.5,PER|DATE)" ] do
        Assert.Equal(s, PolicySpec.format (parse s))

let private errorOf s =
    match PolicySpec.resolve specials s with
    | Ok _ -> failwithf "'%s' should not resolve" s
    | Error e -> e

[<Fact>]
let ``bad specs give one-line errors that say what exists`` () =
    let unknown = errorOf "foo"
    Assert.Contains("unknown policy 'foo'", unknown)

    Assert.Contains(
        "orig, rand, ssm, oracle, whole-word, bart-infilling, spanbert, t5, pmi, loss-guided, scored",
        unknown
    )

    Assert.Contains("no knob 'q'; its knobs: p, unit", errorOf "rand:q=1")
    Assert.Contains("expects a number in [0, 1], got 2", errorOf "rand:p=2")
    Assert.Contains("expects one of token, word, entity, got 'char'", errorOf "rand:unit=char")
    Assert.Contains("at column 13: expected ')'", errorOf "mix(rand:0.5")
    Assert.Contains("expected the end of the spec", errorOf "rand)")
    Assert.Contains("expected a policy name", errorOf "")
    Assert.Contains("needs a policy from step 0", errorOf "schedule(rand@5)")
    Assert.Contains("must not exceed 1", errorOf "rand:replace=corrupt,mask_replace_prob=0.8,random_replace_prob=0.5")
    Assert.Contains("mixture weights", errorOf "mix(rand:0,ssm:0)")

    for s in [ "foo"; "rand:q=1"; "mix(rand:0.5"; "" ] do
        Assert.DoesNotContain("\n", errorOf s)

[<Fact>]
let ``aliases follow the anchors' knob names`` () =
    let a = resolve "rand:mlm_probability=0.3"
    let b = resolve "rand:p=0.3"
    let ex = exampleOfSeed 4 100
    Assert.Equal(apply b 1UL ex, apply a 1UL ex)

let private nested n =
    String.replicate n "mix(" + "rand:1" + String.replicate (n - 1) "):1" + ")"

[<Fact>]
let ``nesting is limited with the column of the first level too deep, and deep specs fail at once`` () =
    Assert.True(PolicySpec.resolve specials (nested PolicySpec.MaxDepth) |> Result.isOk)
    // The 65th mix( starts at index 256.
    Assert.Contains("at column 257: expected policies nested at most 64 levels deep", errorOf (nested 65))
    let deep = errorOf (nested 100000)
    Assert.Contains("nested at most 64 levels deep", deep)
    // The error quotes the start of the spec, not megabytes of it.
    Assert.True(deep.Length < 400, deep)

[<Fact>]
let ``a knob given twice, by its name or an alias, is an error rather than the last value winning`` () =
    Assert.Contains("at column 12: knob 'p' is given twice", errorOf "rand:p=0.1,p=0.2")
    Assert.Contains("knob 'p' twice (as 'p' and 'mlm_probability')", errorOf "rand:p=0.1,mlm_probability=0.2")
    // The same knob in two policies of a mixture is fine.
    Assert.True(
        PolicySpec.resolve specials "mix(rand:p=0.1,unit=word:0.5,rand:p=0.2:0.5)"
        |> Result.isOk
    )

[<Fact>]
let ``schedule steps increase as written, so that no entry is unreachable`` () =
    Assert.Contains("at column 21: expected a start step after 0", errorOf "schedule(rand@0,ssm@0)")
    Assert.Contains("at column 15: expected a start step after 0", errorOf "schedule(rand,ssm)")
    Assert.Contains("expected a start step after 1000", errorOf "schedule(ssm@1000,rand@0)")
    Assert.True(PolicySpec.resolve specials "schedule(rand@0,ssm@1000)" |> Result.isOk)

[<Fact>]
let ``within takes only labels that annotations carry`` () =
    Assert.Contains(
        "at column 13: unknown annotation label 'NOSUCH'; known: PER|ORG|LOC|MISC|DATE|NUMBER|NAME",
        errorOf "within(rand,NOSUCH)"
    )

    Assert.Contains("at column 13: expected annotation labels", errorOf "within(rand,|)")
    Assert.True(PolicySpec.resolve specials "within(rand:p=1,per|date)" |> Result.isOk)
