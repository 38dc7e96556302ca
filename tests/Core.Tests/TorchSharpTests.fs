module Masking.Tests.TorchSharpTests

open Xunit
open TorchSharp

[<Fact>]
let ``TorchSharp loads libtorch and computes a gradient`` () =
    // Holds every tensor wrapper the test makes until it ends (see Scalars.held).
    use _ = torch.NewDisposeScope()

    let x = torch.tensor ([| 1.0f; -2.0f; 3.0f |], requires_grad = true)
    let y = (x * x).sum ()
    y.backward ()
    let grad = x.grad.data<float32>().ToArray()
    Assert.Equal<float32[]>([| 2.0f; -4.0f; 6.0f |], grad)
