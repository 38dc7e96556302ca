namespace Masking.Model

open TorchSharp

/// TorchSharp frees a Scalar's native value in its finalizer, and optimised code lets a temporary Scalar die
/// while the native call that reads it is still running (seen as "Unknown scalar type" in an optimiser step).
/// Every scalar we hand to TorchSharp is therefore owned here and disposed only after the call has returned.
module Scalars =
    let inline using (scalar: Scalar) ([<InlineIfLambda>] call: Scalar -> 'T) : 'T =
        try
            call scalar
        finally
            scalar.Dispose()

    let inline ofFloat (x: float) ([<InlineIfLambda>] call: Scalar -> 'T) : 'T = using (Scalar.op_Implicit x) call

    let inline ofInt (x: int64) ([<InlineIfLambda>] call: Scalar -> 'T) : 'T = using (Scalar.op_Implicit x) call

    /// The alpha of every addition and subtraction, rooted for the life of the process (a module value is a
    /// static field, never finalized). TorchSharp's `a + b` is `a.add(b, 1)` with a temporary Scalar 1 that its
    /// finalizer may free while libtorch reads it: that race was the grid's rare segmentation fault.
    let one = Scalar.op_Implicit 1L

    /// Runs `f` inside a dispose scope, which holds every tensor wrapper made meanwhile (TorchSharp's own
    /// temporaries too) until `f` has returned, and moves the tensor `f` returns out of it. Every public function
    /// that chains tensor operations runs its body so, and is safe to call with no scope of the caller's.
    let inline held ([<InlineIfLambda>] f: unit -> torch.Tensor) : torch.Tensor =
        use _ = torch.NewDisposeScope()
        (f ()).MoveToOuterDisposeScope()

    /// Tensor addition with the rooted alpha: use it instead of `+` between tensors (subtraction takes no alpha).
    let inline (+.) (a: torch.Tensor) (b: torch.Tensor) = a.add (b, one)
