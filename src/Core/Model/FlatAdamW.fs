namespace Masking.Model

open TorchSharp

/// The trainable parameters, their gradients and AdamW's two moments, each laid out in one flat buffer with every
/// named tensor a view of its slot (`Tensor.set_`, so the named tensors stay the same objects: the parameter map,
/// checkpoints and evaluation see no difference). Backward accumulates into the gradient views in place, so one
/// update, the gradient norm, clipping and zeroing are a handful of kernels over all parameters, instead of a
/// handful per parameter: at the tiny preset's fine-tuning shape (~90 tensors) the per-parameter loop was 14% of
/// a step. Parameters that take no gradient are left out and never updated.
type FlatAdamW =
    private
        {
            Weights: torch.Tensor
            Grads: torch.Tensor
            M: torch.Tensor
            V: torch.Tensor
            /// 1 where a parameter takes weight decay, 0 elsewhere (AdamW.decays).
            Decays: torch.Tensor
        }

module FlatAdamW =
    /// Moves the parameters (requires_grad ones), their gradients and the moments of `state` into flat buffers.
    let pack (p: Parameters) (state: AdamWState) : FlatAdamW =
        use _ = torch.no_grad ()

        let trainable =
            [ for KeyValue(name, w) in p do
                  if w.requires_grad then
                      yield name, w ]

        match trainable |> List.map snd |> List.distinctBy (fun w -> w.dtype, w.device_type) with
        | [ first ] ->
            let total = trainable |> List.sumBy (fun (_, w) -> w.numel ())

            let buffer () =
                torch.zeros ([| total |], dtype = first.dtype, device = first.device)

            let weights, grads, m, v, decays =
                buffer (), buffer (), buffer (), buffer (), buffer ()

            let offsets =
                trainable
                |> List.scan (fun offset (_, w: torch.Tensor) -> offset + w.numel ()) 0L

            for (name, w), offset in List.zip trainable (List.take trainable.Length offsets) do
                let n = w.numel ()

                // Every wrapper below is disposed (`use`) after the native call that reads it: TorchSharp passes only
                // the raw handle, so an unreferenced temporary (the narrow before its view, the grad getter's new
                // wrapper) could be finalized on the GC's thread while libtorch still reads it. That was a
                // segmentation fault in `view` under MASKING_GC_STRESS, about one run in ten with the CPU contended.
                let slot (flat: torch.Tensor) =
                    use part = flat.narrow (0L, offset, n)
                    part.view (w.shape)

                let place (flat: torch.Tensor) (t: torch.Tensor) =
                    use s = slot flat
                    s.copy_ t |> ignore
                    t.set_ s |> ignore

                place weights w
                place m state.M[name]
                place v state.V[name]
                use g = slot grads
                use old = w.grad

                if not (isNull old) then
                    g.copy_ old |> ignore

                w.grad <- g

                if AdamW.decays name then
                    use d = slot decays
                    Scalars.ofFloat 1.0 (fun one -> d.fill_ one |> ignore)

            { Weights = weights
              Grads = grads
              M = m
              V = v
              Decays = decays }
        | [] -> invalidArg (nameof p) "no parameter takes a gradient"
        | _ -> invalidArg (nameof p) "the parameters mix element types or devices"

    /// The global L2 norm of all gradients.
    let gradNorm (flat: FlatAdamW) =
        use _ = torch.no_grad ()
        use norm = flat.Grads.norm ()
        float (norm.item<float32> ())

    /// Scales the gradients so that their global norm is at most maxNorm; returns the norm before clipping.
    let clip (maxNorm: float) (flat: FlatAdamW) =
        let total = gradNorm flat

        if maxNorm > 0.0 && total > maxNorm && not (System.Double.IsNaN total) then
            use _ = torch.no_grad ()
            Scalars.ofFloat (maxNorm / (total + 1e-6)) (fun scale -> flat.Grads.mul_ scale |> ignore)

        total

    let zeroGrad (flat: FlatAdamW) =
        use _ = torch.no_grad ()
        flat.Grads.zero_ () |> ignore

    /// One AdamW update with learning rate lr: the formula of AdamW.stepWith, over the flat buffers.
    let step (settings: AdamWSettings) (lr: float) (flat: FlatAdamW) (state: AdamWState) : AdamWState =
        use _ = torch.no_grad ()
        use _ = torch.NewDisposeScope()
        let t = state.Step + 1L
        let bc1 = 1.0 - System.Math.Pow(settings.Beta1, float t)
        let bc2 = 1.0 - System.Math.Pow(settings.Beta2, float t)
        let w, g, m, v = flat.Weights, flat.Grads, flat.M, flat.V

        if settings.WeightDecay > 0.0 then
            Scalars.ofFloat (-lr * settings.WeightDecay) (fun rate -> w.addcmul_ (w, flat.Decays, rate) |> ignore)

        Scalars.ofFloat settings.Beta1 (fun beta1 ->
            Scalars.ofFloat (1.0 - settings.Beta1) (fun rest -> m.mul_(beta1).add_ (g, rest) |> ignore))

        Scalars.ofFloat settings.Beta2 (fun beta2 ->
            Scalars.ofFloat (1.0 - settings.Beta2) (fun rest -> v.mul_(beta2).addcmul_ (g, g, rest) |> ignore))

        let denom =
            Scalars.ofFloat (sqrt bc2) (fun s ->
                Scalars.ofFloat settings.Epsilon (fun eps -> v.sqrt().div_(s).add_ (eps, Scalars.one)))

        Scalars.ofFloat (-lr / bc1) (fun stepSize -> w.addcdiv_ (m, denom, stepSize) |> ignore)
        { state with Step = t }
