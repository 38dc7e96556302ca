namespace Masking.Model

open TorchSharp

/// Whether a forward pass drops units, and the generator its masks come from. Masks are drawn from a generator
/// the caller owns rather than from libtorch's global one (seeded process-wide), so that no call changes random
/// state behind another's back, as T5's stateless seeds do.
[<RequireQualifiedAccess>]
type Dropout =
    /// Evaluation: every unit kept.
    | Off
    /// Training: masks drawn from this generator (on the tensors' device), in the forward pass's fixed order.
    | From of torch.Generator

module Dropout =
    /// Drops each unit of x with probability rate and scales the rest by 1 / (1 − rate). The same kernels as
    /// libtorch's CPU dropout (a Bernoulli(1 − rate) mask divided by 1 − rate, then multiplied), so a generator
    /// seeded as the global one was gives the same bits.
    let apply (rate: float) (dropout: Dropout) (x: torch.Tensor) =
        match dropout with
        | Dropout.From g when rate > 0.0 ->
            let noise = torch.empty_like(x).bernoulli_ (1.0 - rate, g)
            Scalars.ofFloat (1.0 - rate) (fun keep -> noise.div_ keep |> ignore)
            x * noise
        | _ -> x

    let isTraining (dropout: Dropout) =
        match dropout with
        | Dropout.Off -> false
        | Dropout.From _ -> true
