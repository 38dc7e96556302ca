using System.CommandLine;
using Masking.Experiments.Training;
using TorchSharp;

namespace Masking.Experiments.Cli;

/// <summary>The options many commands share: where the data lives, and where and on how many threads to compute.</summary>
public static class CommonOptions
{
    public static Option<string> Data(Command command)
    {
        var option = Opts.Text("--data", "DIR",
            "the datasets' root (default: MASKING_DATA, else a shared/data folder above the working directory)");
        command.Options.Add(option);
        return option;
    }

    /// <summary>--threads 0 leaves libtorch's own choice; more threads than cores only slow every one of them down.</summary>
    public static Option<int> Threads(Command command, int defaultValue = 0)
    {
        var option = Opts.Int("--threads", defaultValue, "libtorch's CPU threads (0: libtorch's default)", min: 0, max: MaxThreads);
        command.Options.Add(option);
        return option;
    }

    /// <summary>The cores this machine has, times four: beyond that no setting is meant (and 100000 never starts).</summary>
    public static int MaxThreads => Math.Max(4, 4 * Environment.ProcessorCount);

    /// <summary>--device, --threads and --data, read into the environment a stage runs in.</summary>
    public sealed record Compute(Option<string> Device, Option<int> Threads, Option<string> Data)
    {
        public static Compute AddTo(Command command)
        {
            var device = Opts.Choice("--device", "where to compute (default: cuda when available, else cpu)", null, "cpu", "cuda");
            command.Options.Add(device);
            return new Compute(device, CommonOptions.Threads(command), CommonOptions.Data(command));
        }

        public StageEnvironment Read(ParseResult parse, TextWriter stderr)
        {
            var deviceName = parse.GetValue(Device) ?? (torch.cuda.is_available() ? "cuda" : "cpu");
            if (deviceName == "cuda" && !torch.cuda.is_available()) throw new CliError("--device cuda: no CUDA device is available here");
            var threads = parse.GetValue(Threads);
            if (threads > 0) torch.set_num_threads(threads);
            return new StageEnvironment(deviceName == "cuda" ? torch.CUDA : torch.CPU, stderr, !Console.IsErrorRedirected, parse.GetValue(Data));
        }
    }
}
