using System.Runtime.InteropServices;

namespace Masking.Experiments.Training;

/// <summary>A training loop stopped by Ctrl-C (or SIGTERM) at a step boundary, its checkpoint on disk.</summary>
public sealed class RunInterrupted(long step) : Exception($"interrupted at step {step}: run the same command to resume");

/// <summary>
/// Ctrl-C and SIGTERM during training: the first asks the loop to stop at the next step boundary, after writing
/// its checkpoint; a second one (or any outside a training loop) ends the process at once, as without this.
/// </summary>
public static class Interruption
{
    private static volatile bool _requested;
    private static int _loops;
    private static readonly List<PosixSignalRegistration> Registrations = [];

    /// <summary>Whether a stop has been asked for and a loop should honour it now.</summary>
    public static bool Requested => _requested;

    public static void Install()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
            Registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                // Cancel = true keeps the process alive; false lets the signal end it as usual.
                context.Cancel = Volatile.Read(ref _loops) > 0 && !_requested;
                if (context.Cancel)
                {
                    _requested = true;
                    Console.Error.WriteLine("\nstopping at the next step boundary, after a checkpoint (Ctrl-C again to stop at once)");
                }
            }));
    }

    /// <summary>Marks a training loop as running, for as long as the returned value is not disposed.</summary>
    public static IDisposable Loop()
    {
        Interlocked.Increment(ref _loops);
        return new LoopScope();
    }

    private sealed class LoopScope : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref _loops);
        }
    }
}
