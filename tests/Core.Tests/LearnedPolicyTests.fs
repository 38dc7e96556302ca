module Masking.Tests.LearnedPolicyTests

open System
open Xunit
open TorchSharp
open Masking
open Masking.Model
open Masking.Learned

let private toDouble (p: Parameters) : Parameters =
    p |> Map.map (fun _ t -> t.detach().to_type(torch.float64).requires_grad_ true)

/// A micro language model and scorer in double precision, without dropout, over a 40-token vocabulary.
let private tinySetup () =
    let lm =
        { ModelConfig.forVocabulary ModelConfig.micro 40 1 2 32 with
            Dropout = 0.0 }

    let scorer =
        { SpanScorer.config 40 1 2 with
            DModel = 16
            EncoderLayers = 1
            Heads = 2
            FfnDim = 32
            Dropout = 0.0 }

    lm,
    scorer,
    Parameters.init lm 0L torch.CPU |> toDouble,
    SpanScorer.init scorer 1L torch.CPU |> toDouble,
    SpecialTokens.create 0 1 2 3 4 [| 5..9 |] [] 40

[<Theory>]
[<InlineData(1)>]
[<InlineData(2)>]
let ``the meta-gradient matches finite differences of the outer loss in double precision`` (innerSteps: int) =
    // Holds every tensor wrapper the test makes until it ends (see Scalars.held).
    use _ = torch.NewDisposeScope()

    let lm, scorer, theta, phi, specials = tinySetup ()

    let example =
        { Context = [| 0; 12; 13; 14; 15; 16; 17; 18; 19; 20; 2 |]
          Question = [| 0; 21; 22; 23; 2 |]
          Answer = [| 14; 15 |] }

    let alpha = 0.5

    let loss (p: Parameters) =
        MetaObjective.metaLoss lm theta scorer p specials example alpha innerSteps 0.3 Exact torch.CPU

    if innerSteps > 1 then
        // More inner steps move θ further before the outer loss is taken.
        let once =
            MetaObjective.metaLoss lm theta scorer phi specials example alpha 1 0.3 Exact torch.CPU

        Assert.NotEqual((loss phi).item<float> (), once.item<float> ())

    let analytic = MetaObjective.gradient (loss phi) phi
    torch.manual_seed 5L |> ignore
    let direction = phi |> Map.map (fun _ t -> torch.randn_like t)

    let along =
        direction
        |> Seq.sumBy (fun kv -> (analytic[kv.Key] * kv.Value).sum().item<float> ())

    let eps = 1e-5

    let shifted (sign: float) =
        use _ = torch.no_grad ()

        phi
        |> Map.map (fun n t ->
            t.add(Scalars.ofFloat (sign * eps) (fun x -> direction[n].mul x), Scalars.one).detach().requires_grad_ true)

    let plus, minus =
        (loss (shifted 1.0)).item<float> (), (loss (shifted -1.0)).item<float> ()

    let numeric = (plus - minus) / (2.0 * eps)
    Assert.True(abs numeric > 1e-8, sprintf "the outer loss does not depend on φ (%g)" numeric)
    let relative = abs (along - numeric) / abs numeric

    Assert.True(
        relative < 1e-2,
        sprintf "analytic %g vs finite differences %g (relative error %g)" along numeric relative
    )

[<Fact>]
let ``the first-order variant points the same way as the exact gradient`` () =
    // Holds every tensor wrapper the test makes until it ends (see Scalars.held).
    use _ = torch.NewDisposeScope()

    let lm, scorer, theta, phi, specials = tinySetup ()

    let example =
        { Context = [| 0; 12; 13; 14; 15; 16; 2 |]
          Question = [| 0; 21; 2 |]
          Answer = [| 14 |] }

    let grad kind =
        MetaObjective.gradient
            (MetaObjective.metaLoss lm theta scorer phi specials example 0.01 1 0.3 kind torch.CPU)
            phi

    let exact, approx = grad Exact, grad FirstOrderTask

    let dot =
        exact |> Seq.sumBy (fun kv -> (kv.Value * approx[kv.Key]).sum().item<float> ())

    let norm (g: Map<string, torch.Tensor>) =
        sqrt (
            g
            |> Seq.sumBy (fun kv -> Scalars.ofFloat 2.0 (fun two -> kv.Value.pow(two).sum().item<float> ()))
        )
    // The two differ by O(α‖H‖): for a small inner learning rate they agree.
    Assert.True(dot / (norm exact * norm approx) > 0.99)

[<Fact>]
let ``span scores rank spans by log p_start + log p_end within the maximum length`` () =
    // Holds every tensor wrapper the test makes until it ends (see Scalars.held).
    use _ = torch.NewDisposeScope()

    let starts = [| 0.0f; 5.0f; 0.0f; 0.0f |]
    let ends = [| 0.0f; 0.0f; 5.0f; 0.0f |]
    let eligible = [| false; true; true; true |]
    let best = SpanScorer.spans starts ends eligible 3 2
    Assert.Equal({ Start = 1; End = 3 }, best[0].Span)
    Assert.True(best |> Array.forall (fun s -> s.Span.Start >= 1 && s.Span.Length <= 3))
    Assert.Equal(None, SpanScorer.bestSpan starts ends [| false; false; false; false |] 3)
    Assert.Equal(1.0, SpanScorer.spanF1 { Start = 2; End = 4 } { Start = 2; End = 4 })
    Assert.Equal(0.5, SpanScorer.spanF1 { Start = 2; End = 4 } { Start = 3; End = 5 })

[<Fact>]
let ``a scorer built on a language model copies its encoder and can freeze its embeddings`` () =
    // Holds every tensor wrapper the test makes until it ends (see Scalars.held).
    use _ = torch.NewDisposeScope()

    let lmConfig = ModelConfig.forVocabulary ModelConfig.micro 40 1 2 32
    let lm = Parameters.init lmConfig 0L torch.CPU
    let c = SpanScorer.configFrom lmConfig
    let p = SpanScorer.initFrom lm 3L torch.CPU c
    Assert.Equal(0, c.DecoderLayers)
    Assert.Equal(lmConfig.DModel, c.DModel)

    for name in [ "model.shared.weight"; "model.encoder.layers.0.fc1.weight" ] do
        Assert.True(p[name].allclose (lm[name], rtol = 0.0, atol = 0.0))
    // Copies, not views: training the scorer leaves the language model as it was.
    use _ = torch.no_grad ()
    p["model.encoder.layers.0.fc1.weight"].add_ (Scalars.one, Scalars.one) |> ignore

    Assert.False(
        p["model.encoder.layers.0.fc1.weight"]
            .allclose (lm["model.encoder.layers.0.fc1.weight"], rtol = 0.0, atol = 0.0)
    )

    let frozen = SpanScorer.trainable true p
    Assert.False(frozen.ContainsKey "model.shared.weight")
    Assert.False(p["model.shared.weight"].requires_grad)
    Assert.True(frozen.ContainsKey "scorer.start.weight")
    Assert.Equal(p.Count, (SpanScorer.trainable false (SpanScorer.initFrom lm 3L torch.CPU c)).Count)

[<Fact>]
let ``a meta-learned policy initialised from a supervised scorer ranks tokens by its start and end logits`` () =
    // Holds every tensor wrapper the test makes until it ends (see Scalars.held).
    use _ = torch.NewDisposeScope()

    let lmConfig = ModelConfig.forVocabulary ModelConfig.micro 40 1 2 32
    let c = SpanScorer.configFrom lmConfig

    let p =
        SpanScorer.initFrom (Parameters.init lmConfig 0L torch.CPU) 3L torch.CPU c
        |> SpanScorer.tokenHeadFromSpanHeads

    let ids = (torch.tensor [| 0L; 12L; 13L; 14L; 2L |]).unsqueeze 0L
    let s, e, token = SpanScorer.logits c p Dropout.Off ids
    let expected = Scalars.ofFloat 0.5 (fun half -> s.add(e, Scalars.one).mul half)
    Assert.True(token.allclose (expected, rtol = 1e-5, atol = 1e-6))
