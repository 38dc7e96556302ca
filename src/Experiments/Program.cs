using Masking.Experiments.Cli;
using Masking.Experiments.Training;

namespace Masking.Experiments;

public static class Program
{
    public static int Main(string[] argv)
    {
        NativeAllocator.KeepFreedMemory();
        Training.FaultInjection.StartGcStressIfAsked();
        Interruption.Install();
        // A large buffer: `masking mask` writes one line per example.
        using var stdout = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false), 1 << 16);
        var code = CommandLine.Run(argv, stdout, Console.Error);
        stdout.Flush();
        return code;
    }
}
