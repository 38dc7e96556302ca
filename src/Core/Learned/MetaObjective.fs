namespace Masking.Learned

open System
open TorchSharp
open Masking
open Masking.Model
open Masking.Policies

/// One (context, question, answer) example in token ids for the meta-objective.
type MetaExample =
    { Context: int[]
      Question: int[]
      Answer: int[] }

/// How the outer gradient reaches φ: exactly through both inner steps, or treating the task step as the
/// identity in θ (first order in the task step, exact in φ: cheaper).
type MetaGradient =
    | Exact
    | FirstOrderTask

/// The meta-learned policy's objective (method-notes §4.6, relaxation (a)): inner step 1 is an MLM step on
/// the context masked by g(·; φ) with the masked tokens' losses weighted by their masking probabilities;
/// inner step 2 is a task step on (q, a); the outer loss is the task loss on (q, a) after both. The pair of
/// inner steps may be unrolled several times (`innerSteps`; the paper's loop is one pair).
module MetaObjective =

    /// d loss / d each input; zeros for inputs the loss does not reach (autograd.grad with allow_unused
    /// returns empty tensors for those).
    let private gradients (loss: torch.Tensor) (inputs: torch.Tensor[]) (createGraph: bool) =
        torch.autograd.grad ([| loss |], inputs, create_graph = createGraph, retain_graph = true, allow_unused = true)
        |> Seq.mapi (fun i g ->
            if isNull g || g.IsInvalid then
                torch.zeros_like inputs[i]
            else
                g)
        |> Array.ofSeq

    let private ids (values: int[]) (device: torch.Device) =
        torch.tensor(values |> Array.map int64, dtype = torch.int64, device = device).unsqueeze 0L

    /// The tokens g(·; φ) masks: the top fraction of non-special tokens by masking probability (at least one).
    let chosenTokens (specials: SpecialTokens) (probabilities: float32[]) (tokens: int[]) (budget: float) =
        let eligible =
            [| for i in 0 .. tokens.Length - 1 do
                   if not (specials.IsSpecialId tokens[i]) then
                       yield i |]

        let k = Budget.count budget eligible.Length

        eligible
        |> Array.sortBy (fun i -> -probabilities[i], i)
        |> Array.truncate k
        |> Set.ofArray

    /// Task loss of (q, a) under parameters θ (no label smoothing, no dropout).
    let taskLoss (lm: ModelConfig) (theta: Parameters) (example: MetaExample) (device: torch.Device) =
        Scalars.held (fun () ->
            let source = ids example.Question device
            let target = ids (Array.append example.Answer [| lm.EosId |]) device
            let input = ids (Array.append [| lm.DecoderStartId |] example.Answer) device
            Loss.labelSmoothed 0.0 lm.PadId (Seq2Seq.forward lm theta Dropout.Off source input) target None)

    /// The probability-weighted MLM loss on the context masked by the policy: its graph reaches φ through the
    /// weights, L = Σ_t w_t ℓ_t / T with w_t = p_i for a target token copying context token i and 1 for
    /// separators and </s>. (method-notes divide by Σ sg(p_i) instead; that makes the computed value and its
    /// gradient disagree, so a finite-difference check could not hold. A constant keeps them consistent.)
    let mlmLoss
        (lm: ModelConfig)
        (theta: Parameters)
        (specials: SpecialTokens)
        (probabilities: torch.Tensor)
        (example: MetaExample)
        (budget: float)
        (device: torch.Device)
        =
        use _ = torch.NewDisposeScope()
        let tokens = example.Context

        let p =
            probabilities.detach().cpu().to_type(torch.float32).data<float32>().ToArray()

        let chosen = chosenTokens specials p tokens budget
        let marks = Array.init tokens.Length (fun i -> chosen.Contains i)
        let spans = Span.ofMarks marks
        let rng = Rng 0UL
        let source = Build.source specials MaskPerSpan rng tokens spans

        // The target format the `scored` policy is deployed with (bare-spans: a separator between spans only), so
        // the policy is trained for the objective it will drive.
        let target =
            Array.append (Build.target specials (MaskedSpans false) tokens spans) [| lm.EosId |]
        // Which original token each target position copies (−1: a separator or </s>).
        let origin =
            [| for k, s in Array.indexed spans do
                   if k > 0 then
                       yield -1

                   yield! [| s.Start .. s.End - 1 |]
               yield -1 |]

        let index =
            torch.tensor (origin |> Array.map (fun o -> int64 (max 0 o)), dtype = torch.int64, device = device)

        let isToken = torch.tensor (origin |> Array.map (fun o -> o >= 0), device = device)
        let gathered = probabilities.squeeze(0L).index_select (0L, index)
        let ones = torch.ones_like gathered
        let weights = torch.where (isToken, gathered, ones)

        let decoderInput =
            ids (Array.append [| lm.DecoderStartId |] target[.. target.Length - 2]) device

        let logits = Seq2Seq.forward lm theta Dropout.Off (ids source device) decoderInput

        (Loss.labelSmoothed 0.0 lm.PadId logits (ids target device) (Some(weights.unsqueeze 0L)))
            .MoveToOuterDisposeScope()

    let private step (theta: Parameters) (names: string list) (grads: torch.Tensor seq) (alpha: float) : Parameters =
        Seq.zip names grads
        |> Seq.fold
            (fun (acc: Parameters) (n, g) -> acc.Add(n, theta[n] - Scalars.ofFloat alpha (fun a -> g.mul a)))
            theta

    /// L_meta(φ) = L_task(θ''), θ'' = θ' − α∇L_task(θ'), θ' = θ − α∇L_MLM(θ; c, φ), the pair of steps
    /// repeated `innerSteps` times. The result's graph reaches the scorer's parameters φ.
    let metaLoss
        (lm: ModelConfig)
        (theta: Parameters)
        (scorer: ModelConfig)
        (phi: Parameters)
        (specials: SpecialTokens)
        (example: MetaExample)
        (alpha: float)
        (innerSteps: int)
        (budget: float)
        (gradient: MetaGradient)
        (device: torch.Device)
        =
        use _ = torch.NewDisposeScope()

        let _, _, tokenLogits =
            SpanScorer.logits scorer phi Dropout.Off (ids example.Context device)

        let probabilities = torch.sigmoid tokenLogits
        let names = theta |> Map.toList |> List.map fst
        let exact = (gradient = Exact)

        let innerPair (theta: Parameters) =
            let mlm = mlmLoss lm theta specials probabilities example budget device
            let g1 = gradients mlm [| for n in names -> theta[n] |] true
            let theta1 = step theta names g1 alpha
            let inner = taskLoss lm theta1 example device

            let g2 =
                gradients inner [| for n in names -> theta1[n] |] exact
                |> Array.map (fun g -> if exact then g else g.detach ())

            step theta1 names g2 alpha

        let thetaAfter = Seq.fold (fun t _ -> innerPair t) theta (seq { 1..innerSteps })
        (taskLoss lm thetaAfter example device).MoveToOuterDisposeScope()

    /// ∇φ L_meta for the scorer's parameters (zero for those L_meta does not reach).
    let gradient (loss: torch.Tensor) (phi: Parameters) : Map<string, torch.Tensor> =
        use _ = torch.NewDisposeScope()
        let names = phi |> Map.toList |> List.map fst

        Seq.zip names (gradients loss [| for n in names -> phi[n] |] false)
        |> Seq.map (fun (n, g) -> n, (if isNull g then g else g.MoveToOuterDisposeScope()))
        |> Map.ofSeq

    /// θ trained alongside the policy instead of reset: the two inner steps taken for real (plain SGD with
    /// rate α, masks from the current policy), in place.
    let trainAlong
        (lm: ModelConfig)
        (theta: Parameters)
        (scorer: ModelConfig)
        (phi: Parameters)
        (specials: SpecialTokens)
        (example: MetaExample)
        (alpha: float)
        (innerSteps: int)
        (budget: float)
        (device: torch.Device)
        =
        use _ = torch.NewDisposeScope()

        let sgd (loss: torch.Tensor) =
            let names = theta |> Map.toList |> List.map fst
            let grads = gradients loss [| for n in names -> theta[n] |] false
            use _ = torch.no_grad ()

            Seq.zip names grads
            |> Seq.iter (fun (n, g) -> theta[n].sub_ (Scalars.ofFloat alpha (fun a -> g.mul a)) |> ignore)

        let probabilities =
            use _ = torch.no_grad ()

            let _, _, tokenLogits =
                SpanScorer.logits scorer phi Dropout.Off (ids example.Context device)

            torch.sigmoid tokenLogits

        for _ in 1..innerSteps do
            sgd (mlmLoss lm theta specials probabilities example budget device)
            sgd (taskLoss lm theta example device)
