namespace Masking.Policies

open System
open Masking

/// Chooses the token spans to mask. Pure apart from the explicitly seeded generator it is given.
type Chooser = SpecialTokens -> Rng -> Example -> Span[]

/// Span-length distributions for span masking, counted in units.
type SpanLengths =
    /// BART text infilling: Poisson(λ) (a zero draw counts as one: every span hides at least one unit).
    | Poisson of lambda: float
    /// SpanBERT: Geometric(p) truncated to at most maxLength.
    | Geometric of p: float * maxLength: int
    /// T5 span corruption: the budget is split into round(budget / mean) spans of random lengths.
    | MeanLength of mean: float

/// How many units or tokens a fraction asks for. A positive fraction of a non-empty input always asks for
/// at least one, so short inputs are still masked (HF's collator can mask nothing in a short sequence).
module Budget =
    let count (fraction: float) (available: int) =
        if available <= 0 || fraction <= 0.0 then
            0
        else
            min available (max 1 (int (Math.Round(fraction * float available, MidpointRounding.AwayFromZero))))

module Choose =
    let private unitTokens (units: Span[]) =
        let mutable n = 0

        for u in units do
            n <- n + u.Length

        n

    /// k distinct sorted values from [0, m), by selection sampling (one pass, no allocation but the result).
    let internal sortedSample (rng: Rng) (k: int) (m: int) : int[] =
        let result = Array.zeroCreate k
        let mutable chosen = 0
        let mutable i = 0

        while chosen < k do
            if rng.NextInt(m - i) < k - chosen then
                result[chosen] <- i
                chosen <- chosen + 1

            i <- i + 1

        result

    let private mark (marks: bool[]) (u: Span) =
        for t in u.Start .. u.End - 1 do
            marks[t] <- true

    /// Uniformly random units until the masked tokens reach round(fraction × eligible tokens); the last
    /// unit may overshoot by less than its own length.
    let budget (segmentation: Segmentation) (fraction: float) : Chooser =
        fun specials rng ex ->
            let units = Units.segment segmentation specials ex
            let eligible = unitTokens units
            let target = Budget.count fraction eligible

            if target = 0 then
                [||]
            else
                let marks = Array.zeroCreate ex.Tokens.Length
                let mutable covered = 0

                if 2 * target <= eligible then
                    // Sparse budgets: draw units and redraw the ones already taken (fewer than half are).
                    while covered < target do
                        let u = units[rng.NextInt units.Length]

                        if not marks[u.Start] then
                            mark marks u
                            covered <- covered + u.Length
                else
                    // Dense budgets: a partial Fisher–Yates shuffle of the unit indices.
                    let order = Array.init units.Length id
                    let mutable i = 0

                    while covered < target do
                        let j = i + rng.NextInt(units.Length - i)
                        let t = order[j]
                        order[j] <- order[i]
                        order[i] <- t
                        mark marks units[t]
                        covered <- covered + units[t].Length
                        i <- i + 1

                Span.ofMarks marks

    /// The budget of `budget` over the fallback units' tokens, spent first on the preferred units in random
    /// order, then on the fallback units that overlap none of them (PMI-masking: collocations first, then
    /// single words). The last unit may overshoot by less than its own length.
    let budgetPreferring (preferred: Segmentation) (fallback: Segmentation) (fraction: float) : Chooser =
        fun specials rng ex ->
            let fallbackUnits = Units.segment fallback specials ex
            let target = Budget.count fraction (unitTokens fallbackUnits)
            let marks = Array.zeroCreate ex.Tokens.Length
            let mutable covered = 0

            let spend (units: Span[]) =
                // A full Fisher–Yates shuffle, drawn in the same order whatever the budget, then taken in turn.
                let order = Array.init units.Length id

                for i in units.Length - 1 .. -1 .. 1 do
                    let j = rng.NextInt(i + 1)
                    let t = order[j]
                    order[j] <- order[i]
                    order[i] <- t

                for k in order do
                    let u = units[k]

                    if covered < target && not (Array.exists id marks[u.Start .. u.End - 1]) then
                        mark marks u
                        covered <- covered + u.Length

            if target > 0 then
                spend (Units.segment preferred specials ex)
                spend fallbackUnits

            Span.ofMarks marks

    /// Each unit independently with probability p; with atLeastOne, an empty draw on a non-empty input
    /// masks one uniformly chosen unit instead.
    let bernoulli (segmentation: Segmentation) (p: float) (atLeastOne: bool) : Chooser =
        fun specials rng ex ->
            let units = Units.segment segmentation specials ex
            let marks = Array.zeroCreate ex.Tokens.Length
            let mutable any = false

            for u in units do
                if rng.NextDouble() < p then
                    mark marks u
                    any <- true

            if not any && atLeastOne && units.Length > 0 && p > 0.0 then
                mark marks units[rng.NextInt units.Length]

            Span.ofMarks marks

    /// Splits total into k positive parts uniformly at random.
    let private composition (rng: Rng) (total: int) (k: int) =
        let cuts = sortedSample rng (k - 1) (total - 1)
        let parts = Array.zeroCreate k
        let mutable previous = 0

        for j in 0 .. k - 2 do
            parts[j] <- cuts[j] + 1 - previous
            previous <- cuts[j] + 1

        parts[k - 1] <- total - previous
        parts

    /// Random spans whose lengths follow a distribution, covering round(density × units) units exactly,
    /// placed uniformly with at least one unmasked unit between spans. The first and the last unit can be
    /// masked like any other (T5's reference implementation always ends with a noise span: t5#905).
    let spans (segmentation: Segmentation) (lengths: SpanLengths) (density: float) : Chooser =
        fun specials rng ex ->
            let units = Units.segment segmentation specials ex
            let n = units.Length
            let target = Budget.count density n

            if target = 0 then
                [||]
            else
                let drawn =
                    match lengths with
                    | MeanLength mean ->
                        let k =
                            min target (max 1 (int (Math.Round(float target / mean, MidpointRounding.AwayFromZero))))

                        ResizeArray(composition rng target k)
                    | Poisson _
                    | Geometric _ ->
                        let ls = ResizeArray<int>()
                        let mutable sum = 0

                        while sum < target do
                            let l =
                                match lengths with
                                | Poisson lambda -> max 1 (rng.Poisson lambda)
                                | Geometric(p, maxLength) -> rng.Geometric(p, maxLength)
                                | MeanLength _ -> 1

                            let l = min l (target - sum)
                            ls.Add l
                            sum <- sum + l

                        ls

                // Too many spans to keep them apart: join the last two until they fit.
                while target + drawn.Count - 1 > n do
                    let last = drawn[drawn.Count - 1]
                    drawn.RemoveAt(drawn.Count - 1)
                    drawn[drawn.Count - 1] <- drawn[drawn.Count - 1] + last

                let k = drawn.Count
                let free = n - target - (k - 1)
                // Stars and bars: k bars among free + k slots give k + 1 free gaps, each ≥ 0.
                let bars = sortedSample rng k (free + k)
                let marks = Array.zeroCreate ex.Tokens.Length
                let mutable position = 0
                let mutable previousBar = -1

                for j in 0 .. k - 1 do
                    let gap = bars[j] - previousBar - 1
                    previousBar <- bars[j]
                    position <- position + gap + (if j > 0 then 1 else 0)

                    for u in position .. position + drawn[j] - 1 do
                        mark marks units[u]

                    position <- position + drawn[j]

                Span.ofMarks marks

    /// Up to k units chosen uniformly in every sentence (salient span masking: one entity per sentence).
    let perSentence (segmentation: Segmentation) (k: int) : Chooser =
        fun specials rng ex ->
            let units = Units.segment segmentation specials ex
            let result = ResizeArray<Span>()
            // Units sorted by start (as segmentations give them): a sentence's units are found by binary search
            // instead of a scan of every unit for every sentence, in the same order, so the draws are the same.
            let sorted =
                units |> Array.pairwise |> Array.forall (fun (a, b) -> a.Start <= b.Start)

            let within (sentence: Span) =
                if not sorted then
                    units
                    |> Array.filter (fun u -> u.Start >= sentence.Start && u.End <= sentence.End)
                else
                    let mutable lo = 0
                    let mutable hi = units.Length

                    while lo < hi do
                        let mid = lo + (hi - lo) / 2

                        if units[mid].Start >= sentence.Start then
                            hi <- mid
                        else
                            lo <- mid + 1

                    let inside = ResizeArray<Span>()
                    let mutable i = lo

                    while i < units.Length && units[i].Start <= sentence.End do
                        if units[i].End <= sentence.End then
                            inside.Add units[i]

                        i <- i + 1

                    inside.ToArray()

            for sentence in Example.sentences ex do
                let inside = within sentence

                let take = min k inside.Length

                for i in sortedSample rng take inside.Length do
                    result.Add inside[i]

            Span.normalize (result.ToArray())

    /// Spans from a scorer's candidates (Example.Scores): the best k per sentence, or the best ones until
    /// round(budget × eligible tokens) are covered. With a temperature, candidates are sampled without
    /// replacement ∝ exp(score / τ) (Gumbel top-k) instead of taken greedily.
    let scored (k: int) (budget: float option) (temperature: float option) : Chooser =
        fun specials rng ex ->
            let clean (s: Span) =
                s.Length > 0
                && not (Array.exists specials.IsSpecialId ex.Tokens[s.Start .. s.End - 1])

            let ranked =
                ex.Scores
                |> Array.filter (fun c -> clean c.Span)
                |> Array.map (fun c ->
                    let key =
                        match temperature with
                        | Some tau -> c.Score / tau + rng.Gumbel()
                        | None -> c.Score

                    key, c.Span)
                |> Array.sortWith (fun (ka, sa) (kb, sb) ->
                    let c = compare kb ka

                    if c <> 0 then
                        c
                    else
                        compare (sa.Start, sa.End) (sb.Start, sb.End))

            let taken = ResizeArray<Span>()

            let free (s: Span) =
                taken |> Seq.forall (fun t -> s.End <= t.Start || s.Start >= t.End)

            match budget with
            | Some fraction ->
                let target = Budget.count fraction (unitTokens (Units.tokens specials ex))
                let mutable covered = 0

                for _, s in ranked do
                    if covered < target && free s then
                        taken.Add s
                        covered <- covered + s.Length
            | None ->
                for sentence in Example.sentences ex do
                    let mutable count = 0

                    for _, s in ranked do
                        if count < k && s.Start >= sentence.Start && s.End <= sentence.End && free s then
                            taken.Add s
                            count <- count + 1

            Span.normalize (taken.ToArray())

    /// Everything either chooser masks.
    let union (a: Chooser) (b: Chooser) : Chooser =
        fun specials rng ex -> Span.normalize (Array.append (a specials rng ex) (b specials rng ex))

    /// Restricts a chooser to the annotated spans (with the given labels, or any label).
    let within (labels: string list) (inner: Chooser) : Chooser =
        fun specials rng ex ->
            let allowed = Units.annotations labels specials ex

            [| for s in inner specials rng ex do
                   for a in allowed do
                       let start, stop = max s.Start a.Start, min s.End a.End

                       if start < stop then
                           { Start = start; End = stop } |]
            |> Span.normalize
