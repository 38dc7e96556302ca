module Masking.Tests.ModelTests

open System
open System.IO
open Xunit
open TorchSharp
open Masking.Model

/// Scalars for the tests, kept alive for the whole run: a temporary's finalizer could free it while libtorch
/// reads it (see Scalars).
let private kept = Collections.Concurrent.ConcurrentBag<Scalar>()

let private sc (x: float) : Scalar =
    let s = Scalar.op_Implicit x
    kept.Add s
    s

let private ids (values: int64[]) (shape: int64[]) =
    torch.tensor(values, dtype = torch.int64).reshape shape

let private micro = ModelConfig.forVocabulary ModelConfig.micro 50 1 2 32

[<Fact>]
let ``parameter names follow facebook/bart-base`` () =
    // Holds every tensor wrapper the test makes until it ends (see Scalars.held).
    use _ = torch.NewDisposeScope()

    let names = Parameters.shapes ModelConfig.bartBase |> List.map fst
    Assert.Contains("model.shared.weight", names)
    Assert.Contains("model.encoder.layers.5.self_attn.k_proj.weight", names)
    Assert.Contains("model.decoder.layers.5.encoder_attn_layer_norm.bias", names)
    Assert.Contains("model.decoder.embed_positions.weight", names)

    let count =
        Parameters.shapes ModelConfig.bartBase
        |> List.sumBy (fun (_, s) -> Array.fold (*) 1L s)
    // facebook/bart-base has 139.4M parameters plus the 50,265 final_logits_bias entries.
    Assert.InRange(count, 139_000_000L, 140_000_000L)

[<Fact>]
let ``uniform logits give a label-smoothed loss of ln V`` () =
    // Holds every tensor wrapper the test makes until it ends (see Scalars.held).
    use _ = torch.NewDisposeScope()

    let logits = torch.zeros (2L, 3L, 50L)
    let target = ids [| 5L; 6L; 1L; 7L; 1L; 1L |] [| 2L; 3L |]
    let loss = Loss.labelSmoothed 0.1 1 logits target None
    Assert.Equal(log 50.0, float (loss.item<float32> ()), 5)

[<Fact>]
let ``padding positions do not count in the loss`` () =
    // Holds every tensor wrapper the test makes until it ends (see Scalars.held).
    use _ = torch.NewDisposeScope()

    torch.manual_seed 1L |> ignore
    let logits = torch.randn (1L, 3L, 50L)

    let withPad =
        Loss.labelSmoothed 0.1 1 logits (ids [| 5L; 6L; 1L |] [| 1L; 3L |]) None

    let cut =
        Loss.labelSmoothed 0.1 1 (logits.narrow (1L, 0L, 2L)) (ids [| 5L; 6L |] [| 1L; 2L |]) None

    Assert.Equal(float (cut.item<float32> ()), float (withPad.item<float32> ()), 5)

[<Fact>]
let ``gradients flow through explicit parameters, including θ' = θ − α∇θ`` () =
    // Holds every tensor wrapper the test makes until it ends (see Scalars.held).
    use _ = torch.NewDisposeScope()

    let p = Parameters.init micro 0L torch.CPU
    let source = ids [| 0L; 7L; 8L; 9L; 2L |] [| 1L; 5L |]
    let input = ids [| 2L; 10L; 11L |] [| 1L; 3L |]
    let target = ids [| 10L; 11L; 2L |] [| 1L; 3L |]

    let loss =
        Loss.labelSmoothed 0.0 1 (Seq2Seq.forward micro p Dropout.Off source input) target None

    let names = p |> Map.toList |> List.map fst

    let grads =
        torch.autograd.grad ([| loss |], [| for n in names -> p[n] |], create_graph = true, retain_graph = true)
    // A second forward pass through θ' keeps the graph back to θ (what the meta-learned policy needs).
    let updated =
        List.zip names (List.ofSeq grads)
        |> List.map (fun (n, g) -> n, p[n] - g.mul (sc 0.1))
        |> Map.ofList

    let loss2 =
        Loss.labelSmoothed 0.0 1 (Seq2Seq.forward micro updated Dropout.Off source input) target None

    loss2.backward ()
    Assert.NotNull(p["model.shared.weight"].grad)
    Assert.True(float (loss2.item<float32> ()) < float (loss.item<float32> ()))

[<Fact>]
let ``AdamW with the schedule drives a tiny model's loss down`` () =
    // Holds every tensor wrapper the test makes until it ends (see Scalars.held).
    use _ = torch.NewDisposeScope()

    let p = Parameters.init micro 0L torch.CPU
    let source = ids [| 0L; 7L; 8L; 9L; 2L |] [| 1L; 5L |]
    let input = ids [| 2L; 10L; 11L |] [| 1L; 3L |]
    let target = ids [| 10L; 11L; 2L |] [| 1L; 3L |]

    let lossOf () =
        Loss.labelSmoothed 0.1 1 (Seq2Seq.forward micro p Dropout.Off source input) target None

    let first = float ((lossOf ()).item<float32> ())
    let mutable state = AdamW.init p

    for step in 0L .. 49L do
        let loss = lossOf ()
        loss.backward ()
        Gradients.clip 1.0 p |> ignore
        state <- AdamW.step AdamW.defaults (Schedule.linear 1e-2 5L 50L step) p state
        Gradients.zero p

    Assert.Equal(50L, state.Step)
    Assert.True(float ((lossOf ()).item<float32> ()) < first / 3.0)
    // After training, greedy decoding reproduces the target.
    Assert.Equal<int[]>([| 10; 11 |], (Decode.greedy micro p source 5)[0])
    Assert.Equal<int[]>([| 10; 11 |], (Decode.beam micro p source 3 5 1.0)[0])

[<Fact>]
let ``AdamW over flat buffers makes the same updates as AdamW per parameter`` () =
    // Holds every tensor wrapper the test makes until it ends (see Scalars.held).
    use _ = torch.NewDisposeScope()

    let source = ids [| 0L; 7L; 8L; 9L; 2L; 0L; 12L; 13L; 2L; 1L |] [| 2L; 5L |]
    let input = ids [| 2L; 10L; 11L; 2L; 14L; 1L |] [| 2L; 3L |]
    let target = ids [| 10L; 11L; 2L; 14L; 2L; 1L |] [| 2L; 3L |]
    let settings = AdamW.settingsWith 0.01
    let frozen = "model.encoder.layernorm_embedding.weight"

    let fresh () =
        let p = Parameters.init micro 3L torch.CPU
        p[frozen].requires_grad_ false |> ignore
        p

    let lossOf p =
        Loss.labelSmoothed 0.1 1 (Seq2Seq.forward micro p Dropout.Off source input) target None

    let perTensor, flatOnes = fresh (), fresh ()
    let named = flatOnes["model.shared.weight"]
    let flat = FlatAdamW.pack flatOnes (AdamW.init flatOnes)
    let mutable a, b = AdamW.init perTensor, AdamW.init flatOnes
    let norms = ResizeArray()

    for step in 0L .. 9L do
        let lr = Schedule.linear 1e-2 3L 10L step
        (lossOf perTensor).backward ()
        let na = Gradients.clip 0.5 perTensor
        a <- AdamW.step settings lr perTensor a
        Gradients.zero perTensor
        (lossOf flatOnes).backward ()
        let nb = FlatAdamW.clip 0.5 flat
        b <- FlatAdamW.step settings lr flat b
        FlatAdamW.zeroGrad flat
        norms.Add(na, nb)

    for na, nb in norms do
        Assert.Equal(na, nb, 4)

    // Clipping was exercised, the parameters moved, and both ways agree on every one of them.
    Assert.True(norms |> Seq.exists (fun (n, _) -> n > 0.5))
    Assert.Equal(10L, b.Step)
    Assert.Same(named, flatOnes["model.shared.weight"])

    // Key biases are left out: softmax ignores them, so their gradient is rounding noise that Adam's
    // normalisation turns into steps of size lr, different in both ways of summing.
    for KeyValue(name, w) in perTensor |> Seq.filter (fun kv -> not (kv.Key.EndsWith "k_proj.bias")) do
        let difference = (w - flatOnes[name]).abs().max().item<float32> ()
        Assert.True(difference < 1e-5f, sprintf "%s differs by %g" name difference)

    Assert.True(
        (flatOnes["model.shared.weight"] - fresh().["model.shared.weight"]).abs().max().item<float32> () > 1e-3f
    )
    // A parameter that takes no gradient is left out and never updated.
    Assert.Equal(0.0f, (flatOnes[frozen] - fresh().[frozen]).abs().max().item<float32> ())
    // The views are saved and read back like any tensor.
    let file =
        Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString "N" + ".safetensors")

    try
        Checkpoint.save file [ "w", named ] Map.empty

        match Checkpoint.load file torch.CPU with
        | Ok(tensors, _) -> Assert.Equal(0.0f, (tensors["w"] - named).abs().max().item<float32> ())
        | Error e -> failwith e
    finally
        File.Delete file

[<Fact>]
let ``the schedule warms up linearly and decays to zero`` () =
    // Holds every tensor wrapper the test makes until it ends (see Scalars.held).
    use _ = torch.NewDisposeScope()

    Assert.Equal(0.25, Schedule.linear 1.0 4L 10L 0L, 9)
    Assert.Equal(1.0, Schedule.linear 1.0 4L 10L 3L, 9)
    Assert.Equal(0.5, Schedule.linear 1.0 4L 10L 7L, 9)
    Assert.Equal(0.0, Schedule.linear 1.0 4L 10L 10L, 9)

[<Fact>]
let ``checkpoints round-trip bit for bit and a truncated one is an error`` () =
    // Holds every tensor wrapper the test makes until it ends (see Scalars.held).
    use _ = torch.NewDisposeScope()

    let p = Parameters.init micro 3L torch.CPU

    let path =
        Path.Combine(Path.GetTempPath(), sprintf "masking-%s.safetensors" (Guid.NewGuid().ToString "N"))

    Checkpoint.save path (p |> Map.toList) (Map.ofList [ "step", "7" ])

    match Checkpoint.load path torch.CPU with
    | Error e -> failwith e
    | Ok(tensors, meta) ->
        Assert.Equal("7", meta["step"])
        // Hugging Face's loaders check the format.
        Assert.Equal("pt", meta["format"])

        for KeyValue(name, t) in p do
            Assert.True(tensors[name].eq(t).all().item<bool> (), name)

    let bytes = File.ReadAllBytes path
    File.WriteAllBytes(path, bytes[.. bytes.Length - 100])

    match Checkpoint.load path torch.CPU with
    | Ok _ -> failwith "a truncated checkpoint must not load"
    | Error e -> Assert.StartsWith(path + ":0:", e)

    File.WriteAllText(path, "not a checkpoint")
    Assert.True((Checkpoint.load path torch.CPU).IsError)
    File.Delete path

[<Fact>]
let ``the same seed initialises the same parameters`` () =
    // Holds every tensor wrapper the test makes until it ends (see Scalars.held).
    use _ = torch.NewDisposeScope()

    let a = Parameters.init micro 5L torch.CPU
    let b = Parameters.init micro 5L torch.CPU
    let c = Parameters.init micro 6L torch.CPU
    Assert.True(a["model.shared.weight"].eq(b["model.shared.weight"]).all().item<bool> ())
    Assert.False(a["model.shared.weight"].eq(c["model.shared.weight"]).all().item<bool> ())
    // BART zeroes the padding row of the embeddings.
    Assert.Equal(0.0f, a["model.shared.weight"].select(0L, 1L).abs().sum().item<float32> ())
