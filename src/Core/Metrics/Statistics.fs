namespace Masking.Metrics

open MathNet.Numerics.Distributions

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

            if va + vb = 0.0 then
                Ok
                    { Difference = difference
                      T =
                        (if difference = 0.0 then
                             0.0
                         else
                             infinity * float (sign difference))
                      DegreesOfFreedom = float (sa.Count + sb.Count - 2)
                      PValue = (if difference = 0.0 then 1.0 else 0.0) }
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
