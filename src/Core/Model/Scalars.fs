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
