namespace Masking.Metrics

open MathNet.Numerics.Distributions
open Masking

/// Mean ± sample standard deviation over seeds, and a significance test between two arms.
type Summary = { Mean: float; Std: float; Count: int }

/// A two-sided Welch t-test of two arms' scores over seeds.
type Comparison =
    { Difference: float
      T: float
      DegreesOfFreedom: float
      PValue: float }

module Statistics =
    /// Mean and sample standard deviation (n − 1); the std of a single value is 0.
    let summarize (values: float list) : Summary =
        let n = values.Length

        if n = 0 then
            { Mean = nan; Std = nan; Count = 0 }
        else
            let mean = List.average values

            let std =
                if n < 2 then
                    0.0
                else
                    sqrt ((values |> List.sumBy (fun v -> (v - mean) ** 2.0)) / float (n - 1))

            { Mean = mean; Std = std; Count = n }

    /// Welch's unequal-variance t-test (two-sided). Needs at least two values per arm.
    let welch (a: float list) (b: float list) : Result<Comparison, string> =
        if a.Length < 2 || b.Length < 2 then
            Error "a significance test needs at least two seeds per arm"
        else
            let sa, sb = summarize a, summarize b
            let va, vb = sa.Std ** 2.0 / float sa.Count, sb.Std ** 2.0 / float sb.Count
            let difference = sa.Mean - sb.Mean

            // Rounding leaves a std of 1e-18 where every seed scored the same: that is no variance either.
            let none (s: Summary) = s.Std <= 1e-12 * max 1.0 (abs s.Mean)

            if none sa && none sb then
                // Both arms without variance: t is 0/0 or ±∞, and a p of 0 for a difference of one question would
                // be a claim the data cannot make. Equal arms are p = 1; otherwise the test says nothing.
                if abs difference <= 1e-12 * max 1.0 (abs sa.Mean) then
                    Ok
                        { Difference = 0.0
                          T = 0.0
                          DegreesOfFreedom = float (sa.Count + sb.Count - 2)
                          PValue = 1.0 }
                else
                    Error
                        "both arms have zero variance over seeds, so a t-test cannot weigh their difference (compare per-question scores with PairedBootstrap)"
            else
                let t = difference / sqrt (va + vb)

                let df =
                    (va + vb) ** 2.0
                    / (va ** 2.0 / float (sa.Count - 1) + vb ** 2.0 / float (sb.Count - 1))

                let p = 2.0 * (1.0 - StudentT.CDF(0.0, 1.0, df, abs t))

                Ok
                    { Difference = difference
                      T = t
                      DegreesOfFreedom = df
                      PValue = p }

/// Arm A against arm B over the same test questions and seed indices: the mean difference of their
/// per-question scores with a 95% paired bootstrap interval and a two-sided bootstrap p-value.
type PairedComparison =
    {
        /// Mean over seeds and questions of A − B.
        Difference: float
        Low: float
        High: float
        /// Two-sided: twice the smaller share of resampled differences on either side of 0, with the +1 of a
        /// permutation p-value, so it is never 0; 1 when every resample is 0 (two arms that never differ).
        PValue: float
        Seeds: int
        Questions: int
        Resamples: int
    }

module PairedBootstrap =
    /// Resamples seeds and test questions together (with replacement, independently): each resample is the
    /// mean of A − B over the chosen seeds × the chosen questions. That carries both sources of variance, the
    /// fine-tuning (and IPT) seeds and the finite test set, which a t-test over seed means leaves out the second
    /// of. a[s][q] and b[s][q] are seed s's score on question q; seeds pair by index.
    let compare (seed: uint64) (resamples: int) (a: float[][]) (b: float[][]) : Result<PairedComparison, string> =
        let seeds = min a.Length b.Length

        if seeds = 0 then
            Error "a paired comparison needs at least one seed of each arm"
        elif resamples < 1 then
            Error "a paired comparison needs at least one resample"
        else
            let questions = a[0].Length

            if
                Array.exists
                    (fun (row: float[]) -> row.Length <> questions)
                    (Array.append a[.. seeds - 1] b[.. seeds - 1])
            then
                Error "both arms need a score for every test question of every seed"
            elif questions = 0 then
                Error "a paired comparison needs at least one test question"
            else
                let d =
                    Array.init seeds (fun s -> Array.init questions (fun q -> a[s][q] - b[s][q]))

                let observed = d |> Array.averageBy Array.average
                let rng = Rng(seed)
                let weights = Array.zeroCreate<float> questions

                let stats =
                    Array.init resamples (fun _ ->
                        Array.fill weights 0 questions 0.0

                        for _ in 1..questions do
                            let q = rng.NextInt questions
                            weights[q] <- weights[q] + 1.0

                        let mutable total = 0.0

                        for _ in 1..seeds do
                            let row = d[rng.NextInt seeds]

                            for q in 0 .. questions - 1 do
                                total <- total + row[q] * weights[q]

                        total / float (seeds * questions))

                let sorted = Array.sort stats

                let at (p: float) =
                    sorted[min (resamples - 1) (int (floor (p * float resamples)))]

                let below = stats |> Array.filter (fun x -> x <= 0.0) |> Array.length
                let above = stats |> Array.filter (fun x -> x >= 0.0) |> Array.length

                Ok
                    { Difference = observed
                      Low = at 0.025
                      High = at 0.975
                      PValue = min 1.0 (2.0 * float (min below above + 1) / float (resamples + 1))
                      Seeds = seeds
                      Questions = questions
                      Resamples = resamples }

    /// Holm's step-down adjustment of a family of p-values (returned in the given order): the k-th smallest is
    /// multiplied by (m − k + 1), and the adjusted values are made monotone.
    let holm (pValues: float[]) : float[] =
        let m = pValues.Length
        let order = Array.init m id |> Array.sortBy (fun i -> pValues[i], i)
        let adjusted = Array.zeroCreate<float> m
        let mutable running = 0.0

        order
        |> Array.iteri (fun k i ->
            running <- max running (min 1.0 (float (m - k) * pValues[i]))
            adjusted[i] <- running)

        adjusted
