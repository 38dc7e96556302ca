using System.Diagnostics;
using System.Globalization;

namespace Masking.Experiments.Training;

/// <summary>
/// A kill at an exact step, for the tests of resume and of the grid's retry. A test that kills a run from
/// outside races with it: on a loaded machine the run may finish first, or die before its first checkpoint.
/// Here the run kills itself (SIGKILL, nothing flushed, as the out-of-memory killer would) right after the
/// checkpoint of step <c>MASKING_KILL_AT_STEP</c> is on disk. With <c>MASKING_KILL_ONCE=FILE</c> only the
/// process that creates FILE dies, so the retried or resumed run goes on. Unset, this does nothing.
/// </summary>
public static class FaultInjection
{
    public const string StepVariable = "MASKING_KILL_AT_STEP";
    public const string GcStressVariable = "MASKING_GC_STRESS";
    public const string OnceVariable = "MASKING_KILL_ONCE";
    public const string InterruptVariable = "MASKING_INTERRUPT_AT_STEP";

    private static readonly long KillStep = StepFrom(StepVariable);
    private static readonly long InterruptStep = StepFrom(InterruptVariable);

    /// <summary>The step an environment variable names, or -1 when it is unset.</summary>
    private static long StepFrom(string variable) =>
        long.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : -1;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>
    /// With <c>MASKING_INTERRUPT_AT_STEP=N</c>, the process sends itself SIGINT (as Ctrl-C does) when step N is done,
    /// and waits until the handler has seen it, so that the loop stops at that step on any machine.
    /// </summary>
    public static void StepDone(long step)
    {
        if (InterruptStep < 0 || step != InterruptStep) return;
        const int sigint = 2;
        SendSignal(Environment.ProcessId, sigint);
        var clock = Stopwatch.StartNew();
        while (!Interruption.Requested && clock.Elapsed.TotalSeconds < 30) Thread.Sleep(1);
    }

    /// <summary>Called after the checkpoint of <paramref name="step"/> has been renamed into place.</summary>
    public static void CheckpointWritten(long step)
    {
        if (KillStep < 0 || step != KillStep) return;
        var once = Environment.GetEnvironmentVariable(OnceVariable);
        if (!string.IsNullOrEmpty(once))
        {
            try
            {
                // CreateNew is atomic: of two cells reaching the step together, one dies.
                using var _ = new FileStream(once, FileMode.CreateNew, FileAccess.Write);
            }
            catch (IOException)
            {
                return;
            }
        }
        Process.GetCurrentProcess().Kill();
    }

    /// <summary>
    /// With <c>MASKING_GC_STRESS=1</c>, a background thread collects garbage and runs finalizers without pause, as
    /// a busy process would now and then. TorchSharp frees a tensor's or scalar's native object in its finalizer,
    /// and passes only the raw handle to libtorch, so a wrapper that nothing references any more can be freed
    /// while the native call that reads it runs. This makes such a race likely instead of rare (the regression
    /// test of the segmentation fault runs training under it).
    /// </summary>
    public static void StartGcStressIfAsked()
    {
        if (Environment.GetEnvironmentVariable(GcStressVariable) != "1") return;
        var thread = new Thread(() =>
        {
            var junk = new List<byte[]>();
            for (var i = 0L; ; i++)
            {
                junk.Add(new byte[1 << 16]);
                if (junk.Count > 16) junk.Clear();
                GC.Collect(i % 16 == 0 ? 2 : 0);
                GC.WaitForPendingFinalizers();
                Thread.Yield();
            }
        }) { IsBackground = true, Name = "gc-stress" };
        thread.Start();
    }
}
