namespace Masking.Model

open System
open TorchSharp

/// Greedy and beam-search decoding with the functional model (the decoder is re-run over the whole prefix
/// at each step: targets here are short).
module Decode =
    let private startTokens (c: ModelConfig) (n: int64) (device: torch.Device) =
        Scalars.ofInt (int64 c.DecoderStartId) (fun start ->
            torch.full ([| n; 1L |], start, dtype = torch.int64, device = device))

    /// Token ids (without the start token, cut at </s>) for each source row.
    let greedy (c: ModelConfig) (p: Parameters) (source: torch.Tensor) (maxLength: int) : int[][] =
        use _ = torch.no_grad ()
        use scope = torch.NewDisposeScope()
        let n = source.shape[0]
        let encoded = Seq2Seq.encode c p Dropout.Off source
        let mutable prefix = startTokens c n source.device
        let finished = Array.create (int n) false
        let outputs = Array.init (int n) (fun _ -> ResizeArray<int>())
        let mutable step = 0

        while step < maxLength && not (Array.forall id finished) do
            let logits = Seq2Seq.decode c p Dropout.Off encoded source prefix
            let next = logits.select(1L, prefix.shape[1] - 1L).argmax (-1L)
            let ids = next.data<int64>().ToArray()

            for i in 0 .. int n - 1 do
                if not finished[i] then
                    if int ids[i] = c.EosId then
                        finished[i] <- true
                    else
                        outputs[i].Add(int ids[i])

            prefix <- torch.cat ([| prefix; next.unsqueeze 1L |], 1L)
            step <- step + 1

        outputs |> Array.map (fun o -> o.ToArray())

    /// Beam search per source row; scores are summed log-probabilities divided by length^lengthPenalty
    /// (as in Hugging Face's generate).
    let beam
        (c: ModelConfig)
        (p: Parameters)
        (source: torch.Tensor)
        (beamSize: int)
        (maxLength: int)
        (lengthPenalty: float)
        : int[][] =
        use _ = torch.no_grad ()

        [| for row in 0L .. source.shape[0] - 1L do
               use scope = torch.NewDisposeScope()
               let src = source.narrow (0L, row, 1L)
               // Drop the row's padding so that attention sees only its tokens.
               let ids = src.data<int64>().ToArray()

               let length =
                   ids
                   |> Array.tryFindIndexBack (fun t -> t <> int64 c.PadId)
                   |> Option.map ((+) 1)
                   |> Option.defaultValue ids.Length

               let src = src.narrow (1L, 0L, int64 (max 1 length))
               let encoded = Seq2Seq.encode c p Dropout.Off src
               let mutable beams = [ [], 0.0 ] // (tokens, log-probability)
               let finished = ResizeArray<int list * float>()
               let mutable step = 0

               let normalised (tokens: int list, score: float) =
                   score / Math.Pow(float (max 1 tokens.Length), lengthPenalty)

               while step < maxLength && not beams.IsEmpty do
                   let k = int64 beams.Length

                   let prefix =
                       torch.cat (
                           [| startTokens c k source.device
                              torch.tensor (
                                  beams
                                  |> List.collect (fun (t, _) -> List.rev t |> List.map int64)
                                  |> Array.ofList,
                                  dimensions = ReadOnlySpan [| k; int64 step |]
                              ) |],
                           1L
                       )

                   let logits =
                       Seq2Seq.decode c p Dropout.Off (encoded.expand (k, -1L, -1L)) (src.expand (k, -1L)) prefix

                   let lprobs = torch.nn.functional.log_softmax (logits.select (1L, int64 step), -1L)
                   let struct (top, index) = lprobs.topk (beamSize * 2, -1)
                   let top, index = top.data<float32>().ToArray(), index.data<int64>().ToArray()

                   let candidates =
                       [ for b, (tokens, score) in List.indexed beams do
                             for j in 0 .. 2 * beamSize - 1 do
                                 let at = b * 2 * beamSize + j
                                 yield int index[at] :: tokens, score + float top[at] ]
                       |> List.sortByDescending snd

                   let mutable live = []

                   for tokens, score in candidates do
                       if live.Length < beamSize then
                           if List.head tokens = c.EosId then
                               finished.Add(List.tail tokens, score)
                           else
                               live <- live @ [ tokens, score ]

                   beams <- live
                   step <- step + 1
                   // Stop once the best finished hypothesis beats every live one.
                   if finished.Count >= beamSize then
                       let best = finished |> Seq.map normalised |> Seq.max

                       if beams |> List.forall (fun b -> normalised b < best) then
                           beams <- []

               let pool = if finished.Count > 0 then List.ofSeq finished else beams
               let tokens, _ = pool |> List.maxBy normalised
               yield List.rev tokens |> Array.ofList |]
