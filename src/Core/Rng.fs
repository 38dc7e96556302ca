namespace Masking

/// FNV-1a, 64-bit: the hash behind seed salts and the taggers' feature buckets (one definition, so both agree).
module Fnv1a =
    [<Literal>]
    let offset = 14695981039346656037UL

    let inline add (h: uint64) (x: uint64) = (h ^^^ x) * 1099511628211UL

/// Seeds derive from (run seed, epoch, example index) and nothing else, so a mask is the same on any
/// machine, in any order, with any number of threads. There is no global random generator anywhere.
module Seeds =
    let private golden = 0x9E3779B97F4A7C15UL

    /// SplitMix64's finaliser: a bijective mix of 64 bits.
    let mix (x: uint64) =
        let z = (x ^^^ (x >>> 30)) * 0xBF58476D1CE4E5B9UL
        let z = (z ^^^ (z >>> 27)) * 0x94D049BB133111EBUL
        z ^^^ (z >>> 31)

    /// Combines a seed with one more value into a new, well-mixed seed.
    let combine (seed: uint64) (value: uint64) = mix (seed + golden * (value + 1UL))

    /// The seed of one example's mask in one epoch of one run.
    let derive (runSeed: uint64) (epoch: int) (exampleIndex: int64) =
        combine (combine (mix runSeed) (uint64 (int64 epoch))) (uint64 exampleIndex)

    /// A seed for an independent sub-stream (e.g. a mixture's choice vs. the chosen policy's draws).
    let salt (name: string) (seed: uint64) =
        combine seed (name |> Seq.fold (fun h c -> Fnv1a.add h (uint64 c)) Fnv1a.offset)

/// A small, fast, explicitly seeded generator (SplitMix64). Mutable by nature; create one per example.
[<Sealed; AllowNullLiteral>]
type Rng(seed: uint64) =
    let mutable state = seed

    member _.NextUInt64() =
        state <- state + 0x9E3779B97F4A7C15UL
        Seeds.mix state

    /// Uniform in [0, 1) with 53 bits.
    member r.NextDouble() =
        float (r.NextUInt64() >>> 11) * (1.0 / 9007199254740992.0)

    /// Uniform in [0, n) (Lemire's multiply-shift; bias below 2^-32 for the sizes used here).
    member r.NextInt(n: int) =
        if n <= 0 then
            invalidArg (nameof n) "n must be positive"

        int ((uint64 (uint32 (r.NextUInt64() >>> 32)) * uint64 n) >>> 32)

    /// Fisher–Yates shuffle in place, from the last element down (one NextInt per position).
    member r.Shuffle(items: 'T[]) =
        for i in items.Length - 1 .. -1 .. 1 do
            let j = r.NextInt(i + 1)
            let t = items[i]
            items[i] <- items[j]
            items[j] <- t

    /// Poisson(λ) by inversion; λ is small (span lengths).
    member r.Poisson(lambda: float) =
        let l = exp -lambda
        let mutable k = 0
        let mutable p = r.NextDouble()

        while p > l do
            k <- k + 1
            p <- p * r.NextDouble()

        k

    /// Geometric on {1, 2, ...} with success probability p, truncated to at most maxValue by rejection.
    member r.Geometric(p: float, maxValue: int) =
        let mutable result = 0

        while result = 0 do
            let u = 1.0 - r.NextDouble()
            let k = int (floor (log u / log (1.0 - p))) + 1

            if k >= 1 && k <= maxValue then
                result <- k

        result

    /// A standard Gumbel draw (for sampling without replacement ∝ exp(score / τ)).
    member r.Gumbel() =
        let u = r.NextDouble()
        -log(-log(u + 1e-300) + 1e-300)
