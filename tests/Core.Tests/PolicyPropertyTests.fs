/// Invariants that hold for every policy (DESIGN §2), as FsCheck properties over random token sequences.
module Masking.Tests.PolicyPropertyTests

open Xunit
open FsCheck
open FsCheck.Xunit
open Masking
open Masking.Policies
open Masking.Tests.TestData

let private policies = policySpecs |> List.map (fun s -> s, resolve s)

let private forAllPolicies (check: string -> Policy -> bool) =
    policies
    |> List.forall (fun (spec, p) -> check spec p || failwithf "policy %s" spec)

let private maskedTokens (m: Masked) =
    [| for s in m.Spans do
           yield! [| s.Start .. s.End - 1 |] |]

[<Property(Arbitrary = [| typeof<Generators> |], MaxTest = 150)>]
let ``no special or pad token is ever masked`` (r: RandomExample) =
    let ex = r.Example

    forAllPolicies (fun _ p ->
        let m = apply p 11UL ex

        maskedTokens m
        |> Array.forall (fun i -> not (specials.IsSpecialId ex.Tokens[i])))

[<Property(Arbitrary = [| typeof<Generators> |], MaxTest = 150)>]
let ``source and target recover the original exactly`` (r: RandomExample) =
    let ex = r.Example

    forAllPolicies (fun spec p ->
        let parts = p.Parts.Value
        let m = apply p 12UL ex

        match Recover.original specials parts.Replace parts.Target m with
        | Ok original -> original = ex.Tokens
        | Error e -> failwithf "%s: %s" spec e)

[<Property(Arbitrary = [| typeof<Generators> |], MaxTest = 150)>]
let ``spans are sorted, disjoint, non-touching and inside the input`` (r: RandomExample) =
    let ex = r.Example

    forAllPolicies (fun _ p ->
        let s = (apply p 13UL ex).Spans

        s
        |> Array.forall (fun x -> x.Start >= 0 && x.End <= ex.Tokens.Length && x.Length > 0)
        && (s |> Array.pairwise |> Array.forall (fun (a, b) -> a.End < b.Start)))

[<Property(Arbitrary = [| typeof<Generators> |], MaxTest = 100)>]
let ``the same seed gives the same mask`` (r: RandomExample) =
    let ex = r.Example
    forAllPolicies (fun _ p -> apply p 14UL ex = apply p 14UL ex)

[<Property(Arbitrary = [| typeof<Generators> |], MaxTest = 100)>]
let ``another seed gives another mask when there is room for one`` (r: RandomExample) =
    let ex = r.Example

    let eligible =
        ex.Tokens |> Array.filter (specials.IsSpecialId >> not) |> Array.length

    // With 40+ eligible tokens, five seeds giving one identical random mask would be a broken seed path.
    eligible < 40
    || forAllPolicies (fun spec p ->
        spec.StartsWith "ssm"
        || spec.StartsWith "scored"
        || spec.StartsWith "loss-guided"
        || spec = "rand:unit=entity"
        || ([ 1UL .. 5UL ]
            |> List.map (fun s -> (apply p s ex).Spans)
            |> List.distinct
            |> List.length) > 1)

let private units (seg: Segmentation) ex = Units.segment seg specials ex

let private maskedUnits (unitsOf: Span[]) (m: Masked) =
    let marked = Array.zeroCreate 100000

    for s in m.Spans do
        for i in s.Start .. s.End - 1 do
            marked[i] <- true

    unitsOf |> Array.filter (fun u -> marked[u.Start]) |> Array.length

[<Property(Arbitrary = [| typeof<Generators> |], MaxTest = 200)>]
let ``the budget is met within one span`` (r: RandomExample) =
    let ex = r.Example
    let tokenUnits = units TokenUnits ex
    let wordUnits = units WordUnits ex
    let eligible = tokenUnits.Length

    let masked (spec: string) =
        Span.totalLength (apply (resolve spec) 15UL ex).Spans

    // Budget selections: at least the budget, over it by less than one unit.
    let budgetOk spec (us: Span[]) p =
        let target = Budget.count p (us |> Array.sumBy (fun u -> u.Length))

        let longest =
            if us.Length = 0 then
                1
            else
                us |> Array.map (fun u -> u.Length) |> Array.max

        let m = masked spec
        m >= target && m <= target + longest - 1

    // Span selections: exactly the budget, counted in units.
    let spanOk spec (us: Span[]) density =
        maskedUnits us (apply (resolve spec) 15UL ex) = Budget.count density us.Length

    budgetOk "orig" tokenUnits 0.15
    && budgetOk "rand" tokenUnits 0.15
    && budgetOk "rand:unit=word" wordUnits 0.15
    && budgetOk "whole-word" wordUnits 0.15
    && spanOk "t5" tokenUnits 0.15
    && spanOk "bart-infilling" tokenUnits 0.3
    && spanOk "spanbert" wordUnits 0.15
    && spanOk "t5:noise_density=0.3,mean_noise_span_length=1" tokenUnits 0.3
    && (eligible = 0 || masked "rand" > 0)

[<Property(Arbitrary = [| typeof<Generators> |], MaxTest = 200)>]
let ``ssm masks one annotated span in every sentence that has one`` (r: RandomExample) =
    let ex = r.Example
    let m = apply (resolve "ssm") 16UL ex
    let annotated = units (AnnotationUnits []) ex

    Example.sentences ex
    |> Array.forall (fun sentence ->
        let inside =
            annotated
            |> Array.filter (fun u -> u.Start >= sentence.Start && u.End <= sentence.End)

        maskedUnits inside m = min 1 inside.Length)
    && m.Spans
       |> Array.forall (fun s ->
           // A span is one annotation, or several that touch; every token of it is annotated.
           [ s.Start .. s.End - 1 ]
           |> List.forall (fun i -> annotated |> Array.exists (fun a -> a.Start <= i && i < a.End)))

[<Property(Arbitrary = [| typeof<Generators> |], MaxTest = 100)>]
let ``scored masks only candidate spans, at most k per sentence`` (r: RandomExample) =
    let ex = r.Example
    let m = apply (resolve "scored:k=1") 17UL ex

    // Candidates picked in neighbouring sentences may touch and merge into one span, so count tokens.
    maskedTokens m
    |> Array.forall (fun i -> ex.Scores |> Array.exists (fun c -> c.Span.Start <= i && i < c.Span.End))
    && m.Spans.Length <= (Example.sentences ex).Length

/// Whether every masked run of a mask starts a word and ends where one starts (or at the end).
let private wholeWords (ex: Example) (m: Masked) =
    m.Spans
    |> Array.forall (fun s -> ex.WordStarts[s.Start] && (s.End = ex.Tokens.Length || ex.WordStarts[s.End]))

/// Whether no masked run of a mask starts or ends strictly inside an annotated unit.
let private wholeAnnotations (ex: Example) (m: Masked) =
    let inside (a: Annotation) i = a.Span.Start < i && i < a.Span.End

    m.Spans
    |> Array.forall (fun s ->
        ex.Annotations
        |> Array.forall (fun a -> not (inside a s.Start || inside a s.End)))

[<Property(Arbitrary = [| typeof<Generators> |], MaxTest = 150)>]
let ``learned masks never split a word or an annotated unit once their spans are snapped to units`` (r: RandomExample) =
    let ex =
        { r.Example with
            Scores = ScoredSpan.snapToUnits r.Example.WordStarts r.Example.Annotations r.Example.Scores }

    let snappedWhole =
        ex.Scores
        |> Array.forall (fun c ->
            ex.WordStarts[c.Span.Start]
            && (c.Span.End = ex.Tokens.Length || ex.WordStarts[c.Span.End]))

    snappedWhole
    && [ "scored"
         "scored:k=2"
         "scored:budget=0.15"
         "scored:tau=0"
         "scored:budget=0.3,tau=0"
         "loss-guided" ]
       |> List.forall (fun spec ->
           [ 1UL .. 4UL ]
           |> List.forall (fun seed ->
               let m = apply (resolve spec) seed ex
               (wholeWords ex m && wholeAnnotations ex m) || failwithf "%s seed %d" spec seed))

[<Fact>]
let ``snapping widens to whole words and keeps the best score of spans that become one`` () =
    // Words: [0 1 2] [3] [4 5]; spans inside the first word, one across words, one already whole.
    let starts = [| true; false; false; true; true; false |]

    let spans =
        [| { Span = Span.create 1 2; Score = -3.0 }
           { Span = Span.create 0 1; Score = -1.0 }
           { Span = Span.create 2 4; Score = -2.0 }
           { Span = Span.create 3 4; Score = -5.0 } |]

    Assert.Equal<ScoredSpan[]>(
        [| { Span = Span.create 0 3; Score = -1.0 }
           { Span = Span.create 0 4; Score = -2.0 }
           { Span = Span.create 3 4; Score = -5.0 } |],
        ScoredSpan.snapToWords starts spans
    )

[<Fact>]
let ``snapping widens a span that cuts an annotated unit to the whole unit`` () =
    // Words: [0] [1] [2] [3] [4 5]; a date annotated over tokens 1–4, a span over its last word only.
    let starts = [| true; true; true; true; true; false |]

    let date =
        [| { Span = Span.create 1 4
             Label = "DATE" } |]

    let spans =
        [| { Span = Span.create 3 4; Score = -1.0 }
           { Span = Span.create 5 6; Score = -2.0 } |]

    Assert.Equal<ScoredSpan[]>(
        [| { Span = Span.create 1 4; Score = -1.0 }
           { Span = Span.create 4 6; Score = -2.0 } |],
        ScoredSpan.snapToUnits starts date spans
    )

[<Fact>]
let ``at the default temperature a learned policy draws new masks every epoch`` () =
    // Twenty candidate words of close scores: greedy (tau=0) masks the same ones every epoch, the default samples.
    let ex =
        { Example.ofTokens (Array.init 60 (fun i -> 200 + i)) with
            WordStarts = Array.init 60 (fun i -> i % 3 = 0)
            Scores =
                Array.init 20 (fun w ->
                    { Span = Span.create (3 * w) (3 * w + 3)
                      Score = -0.1 * float w }) }

    let masks spec =
        [ 0..4 ]
        |> List.map (fun epoch -> (apply (resolve spec) (Seeds.derive 5UL epoch 0L) ex).Spans)
        |> List.distinct
        |> List.length

    Assert.True(masks "scored:budget=0.15" > 1)
    Assert.Equal(1, masks "scored:budget=0.15,tau=0")

[<Fact>]
let ``inputs of one to three tokens are masked when the budget asks for it`` () =
    for n in 1..3 do
        let ex = Example.ofTokens (Array.init n (fun i -> 200 + i))

        for spec in [ "orig"; "rand"; "whole-word"; "t5"; "bart-infilling"; "spanbert" ] do
            for seed in 0UL .. 20UL do
                let m = apply (resolve spec) seed ex
                Assert.True(m.Spans.Length > 0, sprintf "%s on %d tokens, seed %d: nothing masked" spec n seed)

[<Fact>]
let ``empty input gives an empty result for every policy`` () =
    let ex = Example.ofTokens [||]

    for spec, p in policies do
        let m = apply p 1UL ex
        Assert.True(m.Spans.Length = 0 && m.Source.Length = 0, spec)
        Assert.Empty(m.Target)

[<Fact>]
let ``a mixture draws each policy in proportion to its weight`` () =
    let p = resolve "mix(orig:0.25,rand:0.75)"
    let ex = Example.ofTokens (Array.init 40 (fun i -> 300 + i))
    // orig's target is the full sequence (40 tokens); rand's is much shorter.
    let origShare =
        [ 0UL .. 1999UL ]
        |> List.averageBy (fun s -> if (apply p s ex).Target.Length = 40 then 1.0 else 0.0)

    Assert.InRange(origShare, 0.21, 0.29)

[<Fact>]
let ``a schedule switches policy at its step`` () =
    let p = resolve "schedule(orig@0,rand@100)"
    let ex = Example.ofTokens (Array.init 40 (fun i -> 300 + i))
    Assert.Equal(40, (p.Apply { Seed = 1UL; Step = 99L } ex).Target.Length)
    Assert.NotEqual(40, (p.Apply { Seed = 1UL; Step = 100L } ex).Target.Length)

[<Fact>]
let ``within restricts masks to annotated spans`` () =
    let ex =
        { Example.ofTokens (Array.init 30 (fun i -> 300 + i)) with
            Annotations =
                [| { Span = { Start = 5; End = 9 }
                     Label = "PER" }
                   { Span = { Start = 20; End = 22 }
                     Label = "DATE" } |] }

    let p = resolve "within(rand:p=1,PER)"

    for seed in 0UL .. 10UL do
        let m = apply p seed ex
        Assert.Equal<Span[]>([| { Start = 5; End = 9 } |], m.Spans)

[<Property(Arbitrary = [| typeof<Generators> |], MaxTest = 150)>]
let ``loss-guided masks the hardest words first, to its budget`` (r: RandomExample) =
    // Scores as the training stage gives them: one per word, here a word's score is its first token id.
    let ex = r.Example
    let words = Units.words specials ex

    let scored =
        { ex with
            Scores =
                words
                |> Array.map (fun w ->
                    { Span = w
                      Score = float ex.Tokens[w.Start] }) }

    let m = apply (resolve "loss-guided") 3UL scored

    let masked (w: Span) =
        m.Spans |> Array.exists (fun s -> s.Start <= w.Start && w.End <= s.End)

    let target = Budget.count 0.15 (Span.totalLength words)

    let hardestUnmasked =
        words |> Array.filter (masked >> not) |> Array.map (fun w -> ex.Tokens[w.Start])

    let easiestMasked =
        words |> Array.filter masked |> Array.map (fun w -> ex.Tokens[w.Start])

    Span.totalLength m.Spans >= min target (Span.totalLength words)
    && (hardestUnmasked.Length = 0
        || easiestMasked.Length = 0
        || Array.max hardestUnmasked <= Array.min easiestMasked)
