namespace Masking.Learned

open System
open TorchSharp
open Masking
open Masking.Model
open Masking.Policies

/// The learned policies' span scorer: token embeddings → a small transformer encoder (the model's own
/// encoder, run on its own parameters) → start, end and per-token masking logits.
module SpanScorer =
    /// d 64, 2 encoder layers, 4 heads, FFN 128 (the decoder stack is unused).
    let config (vocabSize: int) (padId: int) (eosId: int) =
        ModelConfig.forVocabulary
            { ModelConfig.micro with
                DModel = 64
                EncoderLayers = 2
                DecoderLayers = 0
                Heads = 4
                FfnDim = 128
                Dropout = 0.1 }
            vocabSize
            padId
            eosId
            256

    let private heads = [ "scorer.start"; "scorer.end"; "scorer.token" ]

    /// Adds the three heads, their weights drawn from `generator` (one on `device`).
    let private withHeads (c: ModelConfig) (generator: torch.Generator) (device: torch.Device) (encoder: Parameters) =
        use _ = torch.no_grad ()

        heads
        |> List.fold
            (fun (p: Parameters) head ->
                p
                    .Add(
                        head + ".weight",
                        Scalars.ofFloat 0.02 (fun std ->
                            torch
                                .randn([| 1L; int64 c.DModel |], device = device, generator = generator)
                                .mul_(std)
                                .requires_grad_
                                true)
                    )
                    .Add(head + ".bias", torch.zeros([| 1L |], device = device).requires_grad_ true))
            encoder

    /// A fresh encoder plus the three heads.
    /// The encoder's draws and then the heads' come from one stream seeded with `seed` on the CPU (the order in
    /// which the global generator served them); on another device the heads come from that device's own.
    let init (c: ModelConfig) (seed: int64) (device: torch.Device) : Parameters =
        use cpu = new torch.Generator(uint64 seed, torch.CPU)
        let encoder = Parameters.initWith c cpu device

        if device.``type`` = DeviceType.CPU then
            withHeads c cpu device encoder
        else
            use own = new torch.Generator(uint64 seed, device)
            withHeads c own device encoder

    /// The scorer built on a language model's encoder (method notes §4.5's alternative to a small encoder):
    /// the language model's configuration without its decoder.
    let configFrom (languageModel: ModelConfig) =
        { languageModel with DecoderLayers = 0 }

    /// The language model's embeddings and encoder layers, copied (the language model stays as it was), plus
    /// freshly initialised heads drawn from `seed`.
    let initFrom (languageModel: Parameters) (seed: int64) (device: torch.Device) (c: ModelConfig) : Parameters =
        let encoder =
            use _ = torch.no_grad ()
            use _ = torch.NewDisposeScope()

            Parameters.shapes c
            |> List.map (fun (name, _) ->
                match languageModel.TryFind name with
                | Some t -> name, t.detach().clone().``to``(device).requires_grad_(true).MoveToOuterDisposeScope()
                | None -> failwithf "the language model has no parameter %s" name)
            |> Map.ofList

        use generator = new torch.Generator(uint64 seed, device)
        withHeads c generator device encoder

    /// A supervised scorer turned into a meta-learned policy's starting point: the per-token masking head
    /// becomes the mean of the start and end heads, so the tokens that begin or end likely answers start out
    /// as the likely masked ones (a fresh token head would start from an arbitrary ranking).
    let tokenHeadFromSpanHeads (p: Parameters) : Parameters =
        use _ = torch.no_grad ()
        use _ = torch.NewDisposeScope()

        let mean (part: string) =
            Scalars.ofFloat 0.5 (fun half ->
                p["scorer.start." + part]
                    .add(p["scorer.end." + part], Scalars.one)
                    .mul(half)
                    .detach()
                    .requires_grad_(true)
                    .MoveToOuterDisposeScope())

        p.Add("scorer.token.weight", mean "weight").Add("scorer.token.bias", mean "bias")

    /// Parameters the optimiser updates: all of them, or all but the token embeddings when those stay frozen
    /// (the recommended default of method notes §4.5 freezes the language model's embedding matrix).
    let trainable (freezeEmbeddings: bool) (p: Parameters) : Parameters =
        if freezeEmbeddings then
            p["model.shared.weight"].requires_grad_ false |> ignore
            p |> Map.remove "model.shared.weight"
        else
            p

    let private head (p: Parameters) (name: string) (h: torch.Tensor) =
        torch.nn.functional.linear(h, p[name + ".weight"], p[name + ".bias"]).squeeze (-1L)

    /// Start, end and token logits [B, S] for source ids [B, S]; padding gets a very low start/end logit.
    let logits (c: ModelConfig) (p: Parameters) (dropout: Dropout) (ids: torch.Tensor) =
        use _ = torch.NewDisposeScope()
        let h = Seq2Seq.encode c p dropout ids
        let pad = Scalars.ofInt (int64 c.PadId) (fun padId -> ids.eq padId)
        use low = Scalar.op_Implicit -1e9

        (head p "scorer.start" h).masked_fill(pad, low).MoveToOuterDisposeScope(),
        (head p "scorer.end" h).masked_fill(pad, low).MoveToOuterDisposeScope(),
        (head p "scorer.token" h).MoveToOuterDisposeScope()

    /// Cross-entropy on the answer's start and end positions (extractive reading comprehension).
    let supervisedLoss
        (c: ModelConfig)
        (p: Parameters)
        (dropout: Dropout)
        (ids: torch.Tensor)
        (starts: torch.Tensor)
        (ends: torch.Tensor)
        =
        Scalars.held (fun () ->
            let s, e, _ = logits c p dropout ids

            torch.nn.functional.cross_entropy(s, starts).add (torch.nn.functional.cross_entropy (e, ends), Scalars.one))

    /// Span scores S(i, j) = log p_start(i) + log p_end(j) for j − i < maxSpan, best first: the `topN` best
    /// spans of tokens that are all eligible (no special token inside).
    let spans
        (startLogits: float32[])
        (endLogits: float32[])
        (eligible: bool[])
        (maxSpan: int)
        (topN: int)
        : ScoredSpan[] =
        let logSoftmax (x: float32[]) =
            let m = Array.max x
            let z = x |> Array.sumBy (fun v -> exp (float (v - m)))
            x |> Array.map (fun v -> float (v - m) - log z)

        let ls, le = logSoftmax startLogits, logSoftmax endLogits
        let n = eligible.Length
        let candidates = ResizeArray<ScoredSpan>()

        for i in 0 .. n - 1 do
            if eligible[i] then
                let mutable j = i

                while j < n && j < i + maxSpan && eligible[j] do
                    candidates.Add
                        { Span = { Start = i; End = j + 1 }
                          Score = ls[i] + le[j] }

                    j <- j + 1

        candidates
        |> Seq.sortBy (fun c -> -c.Score, c.Span.Start, c.Span.End)
        |> Seq.truncate topN
        |> Array.ofSeq

    /// The best span per token row (for evaluation against gold spans).
    let bestSpan (startLogits: float32[]) (endLogits: float32[]) (eligible: bool[]) (maxSpan: int) =
        match spans startLogits endLogits eligible maxSpan 1 with
        | [| best |] -> Some best.Span
        | _ -> None

    /// Token-overlap F1 between a predicted and a gold span.
    let spanF1 (predicted: Span) (gold: Span) =
        let overlap = max 0 (min predicted.End gold.End - max predicted.Start gold.Start)
        Masking.Metrics.Answers.overlapF1 overlap predicted.Length gold.Length
