namespace Masking.Model

open System
open TorchSharp

/// AdamW with decoupled weight decay, written out so that its state is plain named tensors: checkpoints
/// hold it exactly and a resumed run continues bit for bit.
type AdamWState =
    {
        Step: int64
        /// First and second moment estimates, keyed like the parameters.
        M: Map<string, torch.Tensor>
        V: Map<string, torch.Tensor>
    }

type AdamWSettings =
    { Beta1: float
      Beta2: float
      Epsilon: float
      WeightDecay: float }

module AdamW =
    let defaults =
        { Beta1 = 0.9
          Beta2 = 0.999
          Epsilon = 1e-8
          WeightDecay = 0.01 }

    /// The default betas and epsilon with the given weight decay (every optimiser of the project uses them).
    let settingsWith (weightDecay: float) =
        { defaults with
            WeightDecay = weightDecay }

    let init (p: Parameters) : AdamWState =
        use _ = torch.no_grad ()

        { Step = 0L
          M = p |> Map.map (fun _ t -> torch.zeros_like t)
          V = p |> Map.map (fun _ t -> torch.zeros_like t) }

    /// Biases and layer norms take no weight decay (as in BART fine-tuning recipes).
    let decays (name: string) =
        not (
            name.EndsWith ".bias"
            || name.Contains "layer_norm"
            || name.Contains "layernorm_embedding"
            || name = "final_logits_bias"
        )

    /// One update with learning rate lr from the given gradients (a missing name is not updated).
    let stepWith
        (settings: AdamWSettings)
        (lr: float)
        (p: Parameters)
        (grads: string -> torch.Tensor)
        (state: AdamWState)
        : AdamWState =
        use _ = torch.no_grad ()
        // Holds the gradients' wrappers and the temporaries until the update is done (see Scalars.held).
        use _ = torch.NewDisposeScope()
        let t = state.Step + 1L
        let bc1 = 1.0 - Math.Pow(settings.Beta1, float t)
        let bc2 = 1.0 - Math.Pow(settings.Beta2, float t)
        // Owned for the whole update (see Scalars).
        use decay = TorchSharp.Scalar.op_Implicit (1.0 - lr * settings.WeightDecay)
        use beta1 = TorchSharp.Scalar.op_Implicit settings.Beta1
        use oneMinusBeta1 = TorchSharp.Scalar.op_Implicit (1.0 - settings.Beta1)
        use beta2 = TorchSharp.Scalar.op_Implicit settings.Beta2
        use oneMinusBeta2 = TorchSharp.Scalar.op_Implicit (1.0 - settings.Beta2)
        use sqrtBc2 = TorchSharp.Scalar.op_Implicit (sqrt bc2)
        use epsilon = TorchSharp.Scalar.op_Implicit settings.Epsilon
        use stepSize = TorchSharp.Scalar.op_Implicit (-lr / bc1)

        for KeyValue(name, w) in p do
            let g = grads name

            if not (isNull g) && not g.IsInvalid then
                let m, v = state.M[name], state.V[name]

                if settings.WeightDecay > 0.0 && decays name then
                    w.mul_ decay |> ignore

                m.mul_(beta1).add_ (g, oneMinusBeta1) |> ignore
                v.mul_(beta2).addcmul_ (g, g, oneMinusBeta2) |> ignore
                use denom = v.sqrt().div_(sqrtBc2).add_ (epsilon, Scalars.one)
                w.addcdiv_ (m, denom, stepSize) |> ignore

        { state with Step = t }

    /// One update with learning rate lr, reading each parameter's .grad; returns the advanced state.
    let step (settings: AdamWSettings) (lr: float) (p: Parameters) (state: AdamWState) : AdamWState =
        stepWith settings lr p (fun name -> p[name].grad) state

/// Learning-rate schedule: linear warm-up, then linear decay to zero at the last step.
module Schedule =
    let linear (peak: float) (warmup: int64) (total: int64) (step: int64) =
        if step < warmup then
            peak * float (step + 1L) / float (max 1L warmup)
        else
            peak * max 0.0 (float (total - step) / float (max 1L (total - warmup)))

module Gradients =
    /// The global L2 norm of all gradients.
    let norm (p: Parameters) =
        use _ = torch.no_grad ()
        use _ = torch.NewDisposeScope()

        let squares =
            [ for KeyValue(_, w) in p do
                  if not (isNull w.grad) then
                      yield Scalars.ofFloat 2.0 (fun two -> w.grad.pow(two).sum().item<float32> ()) |> float ]

        sqrt (List.sum squares)

    /// Scales gradients so that their global norm is at most maxNorm; returns the norm before clipping.
    let clip (maxNorm: float) (p: Parameters) =
        let total = norm p

        if maxNorm > 0.0 && total > maxNorm && not (Double.IsNaN total) then
            use _ = torch.no_grad ()
            use _ = torch.NewDisposeScope()
            use scale = TorchSharp.Scalar.op_Implicit (maxNorm / (total + 1e-6))

            for KeyValue(_, w) in p do
                if not (isNull w.grad) then
                    w.grad.mul_ scale |> ignore

        total

    let zero (p: Parameters) =
        use _ = torch.NewDisposeScope()

        for KeyValue(_, w) in p do
            if not (isNull w.grad) then
                w.grad.zero_ () |> ignore
