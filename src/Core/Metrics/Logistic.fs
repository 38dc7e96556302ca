namespace Masking.Metrics

open System

/// A fitted logistic curve p(x) = σ(Intercept + Slope · x), with the slope's standard error from the observed
/// information.
type LogisticFit =
    { Intercept: float
      Slope: float
      SlopeError: float
      Observations: int }

/// Logistic regression with one predictor, by Newton's method on the log-likelihood. Outcomes may be fractions
/// (a token F1 of 0.5 counts as half a success). MathNet.Numerics has no logistic regression, and one predictor
/// needs only a 2×2 solve.
module Logistic =
    let private sigmoid z = 1.0 / (1.0 + exp -z)

    /// None when the predictor does not vary or the outcomes are all 0 or all 1 (no finite fit exists).
    let fit (xs: float[]) (ys: float[]) : LogisticFit option =
        let n = xs.Length

        let varies (a: float[]) =
            a.Length > 1 && Array.exists (fun v -> v <> a[0]) a

        let mean = if n = 0 then 0.0 else Array.average ys

        if n <> ys.Length || not (varies xs) || mean <= 0.0 || mean >= 1.0 then
            None
        else
            let rec step (a: float) (b: float) (iteration: int) =
                // Gradient and information (negative Hessian) of the log-likelihood.
                let mutable ga, gb, haa, hab, hbb = 0.0, 0.0, 0.0, 0.0, 0.0

                for i in 0 .. n - 1 do
                    let p = sigmoid (a + b * xs[i])
                    let r = ys[i] - p
                    let w = p * (1.0 - p)
                    ga <- ga + r
                    gb <- gb + r * xs[i]
                    haa <- haa + w
                    hab <- hab + w * xs[i]
                    hbb <- hbb + w * xs[i] * xs[i]

                let det = haa * hbb - hab * hab

                if det <= 1e-300 then
                    None
                else
                    let da = (hbb * ga - hab * gb) / det
                    let db = (haa * gb - hab * ga) / det
                    let a', b' = a + da, b + db

                    if abs da + abs db < 1e-10 && Double.IsFinite a' && Double.IsFinite b' then
                        Some
                            { Intercept = a'
                              Slope = b'
                              SlopeError = sqrt (haa / det)
                              Observations = n }
                    elif iteration >= 100 || not (Double.IsFinite a' && Double.IsFinite b') then
                        // Separable outcomes: the likelihood grows without bound and no finite fit exists.
                        None
                    else
                        step a' b' (iteration + 1)

            step (log (mean / (1.0 - mean))) 0.0 0
