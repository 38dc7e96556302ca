namespace Masking.Taggers

open System

/// An averaged multi-class perceptron over hashed features. Weights live in one dense table
/// [bucket × class]; averaging is lazy (each weight remembers when it last changed).
type AveragedPerceptron(classes: int, bucketBits: int) =
    let buckets = 1 <<< bucketBits
    let mask = uint64 (buckets - 1)
    let weights = Array.zeroCreate<float32> (buckets * classes)
    let totals = Array.zeroCreate<float> (buckets * classes)
    let stamps = Array.zeroCreate<int> (buckets * classes)
    let mutable instances = 0

    member _.Classes = classes
    member _.BucketBits = bucketBits
    member _.Bucket(h: uint64) = int (h &&& mask)

    /// Scores of every class for a feature set (bucket indices), into `scores`.
    member _.Score(features: ReadOnlySpan<int>, scores: float32[]) =
        Array.Clear(scores, 0, classes)

        for f in features do
            let row = f * classes

            for c in 0 .. classes - 1 do
                scores[c] <- scores[c] + weights[row + c]

    member private _.Touch(index: int, delta: float32) =
        totals[index] <- totals[index] + float (instances - stamps[index]) * float weights[index]
        stamps[index] <- instances
        weights[index] <- weights[index] + delta

    /// One training instance: if the guess is wrong, move weight from the guess to the truth.
    member this.Update(features: ReadOnlySpan<int>, truth: int, guess: int) =
        instances <- instances + 1

        if truth <> guess then
            for f in features do
                this.Touch(f * classes + truth, 1.0f)
                this.Touch(f * classes + guess, -1.0f)

    /// Replaces the weights by their averages over all instances seen (call once, after training).
    member _.Average() =
        for i in 0 .. weights.Length - 1 do
            let total = totals[i] + float (instances - stamps[i]) * float weights[i]

            weights[i] <-
                if instances > 0 then
                    float32 (total / float instances)
                else
                    0.0f

    member _.Weights = weights

    /// Builds a perceptron for tagging from stored weights.
    static member FromWeights(classes: int, bucketBits: int, stored: float32[]) =
        let p = AveragedPerceptron(classes, bucketBits)
        Array.blit stored 0 p.Weights 0 stored.Length
        p
