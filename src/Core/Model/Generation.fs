namespace Masking.Model

open System
open System.Collections.Generic
open TorchSharp

/// What Hugging Face's `generate` takes for BART: from the command line, else generation_config.json, else the
/// model's config.json, else generate's own defaults.
type GenerationSettings =
    {
        /// Counts the decoder start token, as `generate(max_length=…)` does.
        MaxLength: int
        /// Also counts the decoder start token: </s> is forbidden while the sequence is shorter.
        MinLength: int
        NumBeams: int
        LengthPenalty: float
        /// Stop a row's beam search as soon as it has NumBeams finished hypotheses.
        EarlyStopping: bool
        NoRepeatNgramSize: int
        /// The token forced right after the decoder start (BART: <s>).
        ForcedBosId: int option
        /// The token forced at the last position (BART: </s>).
        ForcedEosId: int option
        /// Decode step by step with cached keys and values (generate's use_cache); false runs the decoder over
        /// the whole prefix at each step (the same ids, tested).
        UseCache: bool
    }

/// Greedy and beam search with the semantics of Hugging Face's `generate` for encoder–decoder models
/// (transformers/generation/utils.py, `_sample` without sampling and `_beam_search` with `BeamSearchScorer` and
/// `BeamHypotheses` of generation/beam_search.py; the processors of generation/logits_process.py:
/// NoRepeatNGram, MinLength, ForcedBOS, ForcedEOS), with a key/value cache (DecoderCache) or without.
/// Each row's result is what `generate` returns for it alone, minus the decoder start token: the generated ids,
/// ending with </s> when one was generated or fits.
module Generation =
    let private negInf = Single.NegativeInfinity

    /// The logits processors, in generate's order, on one hypothesis's scores (in place).
    let private processScores (s: GenerationSettings) (eos: int) (prefix: IReadOnlyList<int>) (scores: float32[]) =
        let curLen = prefix.Count
        let n = s.NoRepeatNgramSize

        // NoRepeatNGramLogitsProcessor: ban every token that would repeat an n-gram already in the prefix.
        if n > 0 && curLen + 1 >= n then
            for i in 0 .. curLen - n do
                let mutable same = true
                let mutable k = 0

                while same && k < n - 1 do
                    same <- prefix[i + k] = prefix[curLen - n + 1 + k]
                    k <- k + 1

                if same then
                    scores[prefix[i + n - 1]] <- negInf

        // MinLengthLogitsProcessor.
        if curLen < s.MinLength then
            scores[eos] <- negInf

        let force (id: int) =
            Array.fill scores 0 scores.Length negInf
            scores[id] <- 0.0f

        // ForcedBOSTokenLogitsProcessor, then ForcedEOSTokenLogitsProcessor.
        match s.ForcedBosId with
        | Some b when curLen = 1 -> force b
        | _ -> ()

        match s.ForcedEosId with
        | Some e when curLen = s.MaxLength - 1 -> force e
        | _ -> ()

    /// The next token's scores of every hypothesis, as managed rows (log-softmax first when asked): from a
    /// key/value cache, or by running the decoder over the whole prefix. Reorder tells it which hypothesis each
    /// next one continues.
    type private Stepper(c: ModelConfig, p: Parameters, encoded: torch.Tensor, source: torch.Tensor, useCache: bool) =
        let mutable cache =
            if useCache then
                Some(DecoderCache.start c p encoded source)
            else
                None

        let rows (last: torch.Tensor) (logSoftmax: bool) =
            use _ = torch.NewDisposeScope()
            let last = last.to_type torch.float32

            let last =
                if logSoftmax then
                    torch.nn.functional.log_softmax (last, -1L)
                else
                    last

            let host = last.cpu().contiguous ()
            let v = int last.shape[1]
            // One copy per row straight from the tensor's memory (TensorAccessor.ToArray walks element by element,
            // which at bart-base's vocabulary took a fifth of a beam-search step); `host` lives until the end.
            let data = Runtime.InteropServices.MemoryMarshal.Cast<byte, float32>(host.bytes)
            let result = Array.zeroCreate<float32[]> (int last.shape[0])

            for i in 0 .. result.Length - 1 do
                result[i] <- data.Slice(i * v, v).ToArray()

            result

        member _.Next(prefixes: List<int>[], logSoftmax: bool) : float32[][] =
            match cache with
            | Some current ->
                // No scope of its own here: the new cache must outlive this call (it lives in generation's scope);
                // the step's own tensors are disposed as soon as they are read.
                use tokens =
                    torch.tensor (
                        [| for prefix in prefixes -> int64 prefix[prefix.Count - 1] |],
                        dtype = torch.int64,
                        device = source.device
                    )

                let logits, next = DecoderCache.step c p current tokens
                cache <- Some next
                use _ = logits
                rows logits logSoftmax
            | None ->
                use _ = torch.NewDisposeScope()
                let t = prefixes[0].Count

                let flat =
                    [| for prefix in prefixes do
                           for id in prefix -> int64 id |]

                let input =
                    torch.tensor (
                        flat,
                        dimensions = ReadOnlySpan [| int64 prefixes.Length; int64 t |],
                        dtype = torch.int64,
                        device = source.device
                    )

                let logits = Seq2Seq.decodeCausal c p encoded source input
                rows (logits.select (1L, int64 t - 1L)) logSoftmax

        member _.Reorder(index: int[]) =
            match cache with
            | Some current -> cache <- Some(DecoderCache.reorder current (index |> Array.map int64))
            | None -> ()

    /// The index of the first largest score (torch.argmax's choice among ties).
    let private argmax (scores: float32[]) =
        let mutable best = 0

        for i in 1 .. scores.Length - 1 do
            if scores[i] > scores[best] then
                best <- i

        best

    /// Greedy search for every source row.
    let greedy (c: ModelConfig) (p: Parameters) (s: GenerationSettings) (source: torch.Tensor) : int[][] =
        use _ = torch.no_grad ()
        use scope = torch.NewDisposeScope()
        let n = int source.shape[0]
        let encoded = Seq2Seq.encode c p Dropout.Off source
        let stepper = Stepper(c, p, encoded, source, s.UseCache)
        let prefixes = Array.init n (fun _ -> List<int>([ c.DecoderStartId ]))
        let finished = Array.create n false

        while prefixes[0].Count < s.MaxLength && not (Array.forall id finished) do
            let scores = stepper.Next(prefixes, false)

            for i in 0 .. n - 1 do
                if finished[i] then
                    prefixes[i].Add c.PadId
                else
                    processScores s c.EosId prefixes[i] scores[i]
                    let next = argmax scores[i]
                    prefixes[i].Add next

                    if next = c.EosId then
                        finished[i] <- true

        prefixes
        |> Array.map (fun prefix ->
            let generated = prefix |> Seq.skip 1 |> Array.ofSeq

            match Array.tryFindIndex ((=) c.EosId) generated with
            | Some e -> generated[..e]
            | None -> generated)

    /// The finished hypotheses of one row (BeamHypotheses): at most NumBeams, scored by
    /// sum of log-probabilities / generated length ^ length penalty.
    type private Hypotheses(beams: int, lengthPenalty: float, earlyStopping: bool) =
        let items = List<float * int[]>()
        let mutable worst = 1e9

        member _.Count = items.Count
        member _.Items = items

        member _.Add(tokens: int[], sumLogprobs: float, generatedLength: int) =
            let score = sumLogprobs / Math.Pow(float generatedLength, lengthPenalty)

            if items.Count < beams || score > worst then
                items.Add((score, tokens))

                if items.Count > beams then
                    let order = [ for i in 0 .. items.Count - 1 -> fst items[i], i ] |> List.sort

                    items.RemoveAt(snd order[0])
                    worst <- fst order[1]
                else
                    worst <- min score worst

        member _.IsDone(bestSumLogprobs: float, curLen: int) =
            if items.Count < beams then
                false
            elif earlyStopping then
                true
            else
                worst >= bestSumLogprobs / Math.Pow(float (curLen - 1), lengthPenalty)

    /// Beam search for every source row, the rows' beams searched together.
    let beam (c: ModelConfig) (p: Parameters) (s: GenerationSettings) (source: torch.Tensor) : int[][] =
        use _ = torch.no_grad ()
        use scope = torch.NewDisposeScope()
        let n = int source.shape[0]
        let k = s.NumBeams
        let repeated = source.repeat_interleave (int64 k, 0L)
        let encoded = Seq2Seq.encode c p Dropout.Off repeated
        let stepper = Stepper(c, p, encoded, repeated, s.UseCache)
        let sequences = Array.init (n * k) (fun _ -> List<int>([ c.DecoderStartId ]))
        // Only the first beam of a row is live at the start, so the row's beams do not all pick the same token.
        let beamScores = Array.init (n * k) (fun b -> if b % k = 0 then 0.0f else -1e9f)

        let hypotheses =
            Array.init n (fun _ -> Hypotheses(k, s.LengthPenalty, s.EarlyStopping))

        let finished = Array.create n false

        while sequences[0].Count < s.MaxLength && not (Array.forall id finished) do
            let curLen = sequences[0].Count
            let scores = stepper.Next(sequences, true)
            let next = Array.zeroCreate<List<int>> (n * k)
            let nextScores = Array.zeroCreate<float32> (n * k)
            let from = Array.zeroCreate<int> (n * k)

            for i in 0 .. n - 1 do
                if finished[i] then
                    for j in 0 .. k - 1 do
                        let b = i * k + j
                        next[b] <- List<int>(sequences[i * k])
                        next[b].Add c.PadId
                        nextScores[b] <- 0.0f
                        from[b] <- i * k
                else
                    let vocab = scores[i * k].Length

                    // torch.topk(2k, largest, sorted) over the row's beams × vocabulary: the best first, ties
                    // by the smaller flat index. The scan goes up the flat index, so a tie never displaces, and a
                    // candidate no better than the current last of a full list is dropped before anything else
                    // (two arrays rather than tuples: this loop sees beams × vocabulary scores at every step).
                    let size = 2 * k
                    let topScore = Array.zeroCreate<float32> size
                    let topFlat = Array.zeroCreate<int> size
                    let mutable count = 0

                    for j in 0 .. k - 1 do
                        let b = i * k + j
                        let row = scores[b]
                        let offset = beamScores[b]
                        processScores s c.EosId sequences[b] row

                        for t in 0 .. vocab - 1 do
                            let score = row[t] + offset

                            if count < size || score > topScore[size - 1] then
                                let flat = j * vocab + t
                                let mutable at = min count (size - 1)

                                while at > 0 && score > topScore[at - 1] do
                                    topScore[at] <- topScore[at - 1]
                                    topFlat[at] <- topFlat[at - 1]
                                    at <- at - 1

                                topScore[at] <- score
                                topFlat[at] <- flat
                                count <- min (count + 1) size

                    let mutable filled = 0
                    let mutable rank = 0

                    while filled < k && rank < size do
                        let score, flat = topScore[rank], topFlat[rank]
                        let j, token = flat / vocab, flat % vocab
                        let b = i * k + j

                        if token = c.EosId then
                            if rank < k then
                                hypotheses[i].Add(sequences[b].ToArray(), float score, curLen)
                        else
                            let target = i * k + filled
                            next[target] <- List<int>(sequences[b])
                            next[target].Add token
                            nextScores[target] <- score
                            from[target] <- b
                            filled <- filled + 1

                        rank <- rank + 1

                    finished[i] <- hypotheses[i].IsDone(float topScore[0], curLen + 1)

            Array.blit next 0 sequences 0 next.Length
            Array.blit nextScores 0 beamScores 0 nextScores.Length
            stepper.Reorder from

        // Rows still searching at the length limit: their live beams join the hypotheses.
        for i in 0 .. n - 1 do
            if not finished[i] then
                for j in 0 .. k - 1 do
                    let b = i * k + j
                    hypotheses[i].Add(sequences[b].ToArray(), float beamScores[b], sequences[b].Count - 1)

        hypotheses
        |> Array.map (fun h ->
            // sorted by score, the last one popped: among equal scores the one added last.
            let best =
                h.Items
                |> Seq.mapi (fun i (score, tokens) -> score, i, tokens)
                |> Seq.maxBy (fun (score, i, _) -> score, i)
                |> fun (_, _, tokens) -> tokens

            let generated = best[1..]

            if best.Length < s.MaxLength then
                Array.append generated [| c.EosId |]
            else
                generated)

    /// Greedy when NumBeams is 1, else beam search.
    let generate (c: ModelConfig) (p: Parameters) (s: GenerationSettings) (source: torch.Tensor) : int[][] =
        if s.NumBeams <= 1 then
            greedy c p s source
        else
            beam c p s source
