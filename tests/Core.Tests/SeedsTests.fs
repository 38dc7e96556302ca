module Masking.Tests.SeedsTests

open Xunit
open Masking

[<Fact>]
let ``derived seeds depend on run seed, epoch and example index`` () =
    let seeds =
        [ for run in 0UL .. 3UL do
              for epoch in 0..3 do
                  for index in 0L .. 50L -> Seeds.derive run epoch index ]

    Assert.Equal(seeds.Length, (List.distinct seeds).Length)

[<Fact>]
let ``the same seed gives the same stream`` () =
    let draw seed =
        let r = Rng seed in List.init 20 (fun _ -> r.NextUInt64())

    Assert.Equal<uint64 list>(draw 7UL, draw 7UL)
    Assert.NotEqual<uint64 list>(draw 7UL, draw 8UL)

[<Fact>]
let ``seed derivation is fixed across versions and machines`` () =
    // If this changes, every golden mask changes too: derivation is part of the reproducibility contract.
    Assert.Equal(6238072747940578789UL, Seeds.mix 1UL)
    Assert.Equal(Seeds.derive 0UL 0 0L, Seeds.derive 0UL 0 0L)

[<Fact>]
let ``NextInt stays in range and is roughly uniform`` () =
    let r = Rng 3UL
    let counts = Array.zeroCreate 10

    for _ in 1..100000 do
        let k = r.NextInt 10
        counts[k] <- counts[k] + 1

    Assert.All(counts, fun c -> Assert.InRange(c, 9500, 10500))

[<Fact>]
let ``truncated geometric never exceeds its maximum and has the right mean`` () =
    let r = Rng 5UL
    let draws = Array.init 50000 (fun _ -> r.Geometric(0.2, 10))
    Assert.All(draws, fun d -> Assert.InRange(d, 1, 10))
    // SpanBERT's mean span length for p = 0.2 truncated at 10 is about 3.8.
    Assert.InRange(Array.averageBy float draws, 3.6, 4.0)

[<Fact>]
let ``Poisson draws have mean lambda`` () =
    let r = Rng 9UL
    let mean = Array.init 50000 (fun _ -> float (r.Poisson 3.0)) |> Array.average
    Assert.InRange(mean, 2.95, 3.05)
