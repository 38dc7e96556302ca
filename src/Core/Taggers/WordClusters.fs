namespace Masking.Taggers

open System
open System.Collections.Generic
open System.Numerics

/// Word classes induced from unlabelled text, so that a word the labelled data never saw still shares weights
/// with words used in the same contexts (the role Brown clusters play in classic NER and POS taggers).
/// Each word's vector holds its positive PMI with the most frequent left and right neighbours; spherical
/// k-means (k-means++ seeding from an explicit seed) groups the vectors at several granularities.
type WordClusterOptions =
    {
        /// Cluster counts, coarse to fine; a word gets one cluster id per granularity.
        Granularities: int list
        /// Words seen fewer times get no cluster.
        MinCount: int
        /// At most this many words (the most frequent) are clustered.
        MaxWords: int
        /// Neighbour words that make up the context dimensions (left and right, so twice this many).
        Contexts: int
        Iterations: int
        Seed: uint64
    }

module WordClusterOptions =
    let defaults =
        { Granularities = [ 64; 256; 1024 ]
          MinCount = 3
          MaxWords = 40000
          Contexts = 600
          Iterations = 12
          Seed = 0UL }

module WordClusters =
    /// Marks "no cluster": an unseen or rare word.
    let none = -1

    let private key (w: string) = w.ToLowerInvariant()

    /// Row-normalised positive PMI vectors, sparse: (context indices, values) per word.
    let private vectors (options: WordClusterOptions) (sentences: string[] seq) =
        let counts = Dictionary<string, int>()

        for s in sentences do
            for w in s do
                let k = key w

                counts[k] <-
                    (match counts.TryGetValue k with
                     | true, c -> c
                     | _ -> 0)
                    + 1

        let byFrequency =
            counts
            |> Seq.filter (fun kv -> kv.Value >= options.MinCount)
            |> Seq.sortBy (fun kv -> -kv.Value, kv.Key)
            |> Seq.map (fun kv -> kv.Key)
            |> Array.ofSeq

        let words = byFrequency |> Array.truncate options.MaxWords
        let wordIndex = Dictionary<string, int>()
        words |> Array.iteri (fun i w -> wordIndex[w] <- i)
        let contextCount = min options.Contexts words.Length
        let dims = 2 * contextCount
        let cooc = Array.init words.Length (fun _ -> Dictionary<int, float>())
        let contextTotals = Array.zeroCreate<float> dims

        for s in sentences do
            let ids =
                s
                |> Array.map (fun w ->
                    match wordIndex.TryGetValue(key w) with
                    | true, i -> i
                    | _ -> -1)

            for i in 0 .. ids.Length - 1 do
                if ids[i] >= 0 then
                    let add d =
                        let row = cooc[ids[i]]

                        row[d] <-
                            (match row.TryGetValue d with
                             | true, c -> c
                             | _ -> 0.0)
                            + 1.0

                        contextTotals[d] <- contextTotals[d] + 1.0

                    if i > 0 && ids[i - 1] >= 0 && ids[i - 1] < contextCount then
                        add ids[i - 1]

                    if i + 1 < ids.Length && ids[i + 1] >= 0 && ids[i + 1] < contextCount then
                        add (contextCount + ids[i + 1])

        // Context-distribution smoothing (counts^0.75) keeps rare contexts from dominating PMI.
        let smoothed = contextTotals |> Array.map (fun c -> Math.Pow(c, 0.75))
        let smoothedTotal = max 1e-12 (Array.sum smoothed)

        let rows =
            cooc
            |> Array.map (fun row ->
                let total = row.Values |> Seq.sum

                let entries =
                    [| for KeyValue(d, c) in row do
                           let pmi = Math.Log((c / total) / (smoothed[d] / smoothedTotal))

                           if pmi > 0.0 then
                               yield d, pmi |]
                    |> Array.sortBy fst

                let norm = sqrt (entries |> Array.sumBy (fun (_, v) -> v * v))

                entries |> Array.map fst,
                entries
                |> Array.map (fun (_, v) -> if norm > 0.0 then float32 (v / norm) else 0.0f))

        words, rows, dims

    /// k-means++ seeding: each next centroid is a word drawn with probability proportional to its squared
    /// distance (2 − 2 cos for unit vectors) from the nearest centroid chosen so far.
    let private seeds (k: int) (dims: int) (rows: (int[] * float32[])[]) (rng: Masking.Rng) =
        let n = rows.Length
        let nearest = Array.create n -1.0f
        let dense = Array.zeroCreate<float32> dims
        let chosen = ResizeArray<int>()
        let mutable next = 0

        for _ in 1..k do
            chosen.Add next
            let idx, values = rows[next]

            for j in 0 .. idx.Length - 1 do
                dense[idx[j]] <- values[j]

            let mutable total = 0.0

            for w in 0 .. n - 1 do
                let wi, wv = rows[w]
                let mutable dot = 0.0f

                for j in 0 .. wi.Length - 1 do
                    dot <- dot + wv[j] * dense[wi[j]]

                if dot > nearest[w] then
                    nearest[w] <- dot

                total <- total + float (max 0.0f (2.0f - 2.0f * nearest[w]))

            for j in 0 .. idx.Length - 1 do
                dense[idx[j]] <- 0.0f

            let mutable target = rng.NextDouble() * total
            next <- -1

            for w in 0 .. n - 1 do
                if next < 0 then
                    target <- target - float (max 0.0f (2.0f - 2.0f * nearest[w]))

                    if target < 0.0 then
                        next <- w

            // Every word sits on a centroid already: fall back to the first word not chosen.
            if next < 0 then
                next <-
                    (seq { 0 .. n - 1 }
                     |> Seq.tryFind (fun w -> not (chosen.Contains w))
                     |> Option.defaultValue 0)

        chosen.ToArray()

    /// Spherical k-means: each word goes to the centroid of highest cosine.
    let private kmeans (k: int) (iterations: int) (seed: uint64) (dims: int) (rows: (int[] * float32[])[]) =
        let n = rows.Length
        let k = min k n
        // Centroids stored transposed (dimension-major), so a sparse word adds whole rows of k scores.
        let centroids = Array.zeroCreate<float32> (dims * k)
        let initial = seeds k dims rows (Masking.Rng(Masking.Seeds.derive seed k 0L))

        for c in 0 .. k - 1 do
            let idx, values = rows[initial[c]]

            for j in 0 .. idx.Length - 1 do
                centroids[idx[j] * k + c] <- values[j]

        let assignment = Array.create n -1
        let scores = Array.zeroCreate<float32> k
        let width = Vector<float32>.Count
        let mutable iteration = 0
        let mutable changed = true

        while changed && iteration < iterations do
            changed <- false

            for w in 0 .. n - 1 do
                let idx, values = rows[w]
                Array.Clear scores

                for j in 0 .. idx.Length - 1 do
                    let v = Vector<float32>(values[j])
                    let rowStart = idx[j] * k
                    let mutable c = 0

                    while c + width <= k do
                        let s = Vector<float32>(scores, c)
                        (s + v * Vector<float32>(centroids, rowStart + c)).CopyTo(scores, c)
                        c <- c + width

                    while c < k do
                        scores[c] <- scores[c] + values[j] * centroids[rowStart + c]
                        c <- c + 1

                let mutable best = 0

                for c in 1 .. k - 1 do
                    if scores[c] > scores[best] then
                        best <- c

                if idx.Length = 0 then
                    best <- (if assignment[w] >= 0 then assignment[w] else w % k)

                if assignment[w] <> best then
                    assignment[w] <- best
                    changed <- true

            // New centroids: normalised sums of their members; an empty cluster keeps its old centroid.
            let sums = Array.zeroCreate<float32> (dims * k)
            let members = Array.zeroCreate<int> k

            for w in 0 .. n - 1 do
                let c = assignment[w]
                members[c] <- members[c] + 1
                let idx, values = rows[w]

                for j in 0 .. idx.Length - 1 do
                    sums[idx[j] * k + c] <- sums[idx[j] * k + c] + values[j]

            let norms = Array.zeroCreate<float> k

            for d in 0 .. dims - 1 do
                for c in 0 .. k - 1 do
                    let x = float sums[d * k + c]
                    norms[c] <- norms[c] + x * x

            for c in 0 .. k - 1 do
                if members[c] > 0 && norms[c] > 0.0 then
                    let scale = float32 (1.0 / sqrt norms[c])

                    for d in 0 .. dims - 1 do
                        centroids[d * k + c] <- sums[d * k + c] * scale

            iteration <- iteration + 1

        assignment

    /// Lower-cased word → its cluster id at every granularity (coarse first).
    let build
        (options: WordClusterOptions)
        (sentences: string[] seq)
        (progress: string -> unit)
        : Dictionary<string, int[]> =
        let sentences = Seq.cache sentences
        let words, rows, dims = vectors options sentences
        progress (sprintf "clusters: %d words, %d context dimensions" words.Length dims)

        let assignments =
            options.Granularities
            |> List.map (fun k ->
                let a = kmeans k options.Iterations options.Seed dims rows
                progress (sprintf "clusters: k = %d done" k)
                a)
            |> Array.ofList

        let table = Dictionary<string, int[]>()

        words
        |> Array.iteri (fun i w -> table[w] <- assignments |> Array.map (fun a -> a[i]))

        table

    /// The word's cluster ids at granularities 0 .. count − 1 (`none` where it has none): one table lookup.
    let idsOf (table: Dictionary<string, int[]>) (count: int) (lowerWord: string) =
        match table.TryGetValue lowerWord with
        | true, ids -> Array.init count (fun g -> if g < ids.Length then ids[g] else none)
        | _ -> Array.create count none

    /// The word's cluster at granularity g, or `none`.
    let lookup (table: Dictionary<string, int[]>) (g: int) (lowerWord: string) = (idsOf table (g + 1) lowerWord)[g]
