namespace Masking.Model

open TorchSharp

/// How likely the model finds each row's target: what rank classification compares the options of a
/// multiple-choice question by.
module Likelihood =
    /// Each target token's log-probability, [rows, tokens], in the caller's dispose scope.
    let private targetTokenLogProbs
        (c: ModelConfig)
        (p: Parameters)
        (source: torch.Tensor)
        (decoderInput: torch.Tensor)
        (target: torch.Tensor)
        =
        let logits = Seq2Seq.forward c p Dropout.Off source decoderInput
        torch.nn.functional.log_softmax(logits, -1L).gather(-1L, target.unsqueeze (-1L)).squeeze (-1L)

    /// Each row's summed log-probability of its target tokens (padding left out) and their number.
    let targetLogProbs
        (c: ModelConfig)
        (p: Parameters)
        (source: torch.Tensor)
        (decoderInput: torch.Tensor)
        (target: torch.Tensor)
        : (float * int)[] =
        use _ = torch.no_grad ()
        use _ = torch.NewDisposeScope()
        let picked = targetTokenLogProbs c p source decoderInput target

        let keep = Scalars.ofInt (int64 c.PadId) (fun pad -> target.ne pad)

        let summed =
            Scalars.ofFloat 0.0 (fun zero -> picked.masked_fill(keep.logical_not (), zero).sum (1L))

        let sums = summed.to_type(torch.float64).cpu().data<float>().ToArray()

        let counts = keep.sum(1L).cpu().data<int64>().ToArray()
        Array.init sums.Length (fun i -> sums[i], int counts[i])

    /// Each row's negative log-likelihood of every target token, in order, padding left out (the loss-guided
    /// policy's scores).
    let tokenLosses
        (c: ModelConfig)
        (p: Parameters)
        (source: torch.Tensor)
        (decoderInput: torch.Tensor)
        (target: torch.Tensor)
        : float[][] =
        use _ = torch.no_grad ()
        use _ = torch.NewDisposeScope()
        let picked = targetTokenLogProbs c p source decoderInput target

        let values = picked.to_type(torch.float64).cpu().data<float>().ToArray()
        let ids = target.cpu().data<int64>().ToArray()
        let columns = int target.shape[1]

        Array.init (int target.shape[0]) (fun row ->
            [| for t in 0 .. columns - 1 do
                   if ids[row * columns + t] <> int64 c.PadId then
                       yield -values[row * columns + t] |])

    /// The option to choose: the best score, the first among equals; by the mean log-probability per target
    /// token (length-normalised) or by the sum.
    let choose (normalise: bool) (scores: (float * int)[]) : int =
        let value (sum: float, count: int) =
            if normalise then sum / float (max 1 count) else sum

        let mutable best = 0

        for i in 1 .. scores.Length - 1 do
            if value scores[i] > value scores[best] then
                best <- i

        best
