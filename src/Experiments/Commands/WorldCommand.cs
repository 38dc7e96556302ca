using System.CommandLine;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Masking.Experiments.Cli;
using Masking.Tasks;
using Masking.World;

namespace Masking.Experiments.Commands;

/// <summary>
/// <c>masking world [--seed N] [--people N] [--paraphrases N] --out DIR</c>: writes the generated world:
/// the two corpora (one paragraph per line), the target corpus's sentences and salient spans, and its
/// three tasks per split as KILT-format JSONL (scorable with <c>masking score</c>).
/// </summary>
public static class WorldCommand
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Beyond this the world takes minutes and gigabytes to build, and no experiment here needs it.</summary>
    public const int MaxPeople = 100_000;

    public const int MaxParaphrases = 100;

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var defaults = WorldConfigModule.defaults;
        var command = new Command("world", "write the generated world: its two corpora, the target's salient spans and its tasks as KILT JSONL");
        var seed = Opts.Seed(defaults.Seed, "the world's seed");
        var people = Opts.Int("--people", defaults.People, "how many people the world has", min: 4, max: MaxPeople);
        var paraphrases = Opts.Int("--paraphrases", defaults.Paraphrases, "how many ways each fact is stated", min: 1, max: MaxParaphrases);
        command.Options.Add(seed);
        command.Options.Add(people);
        command.Options.Add(paraphrases);
        var outDir = Opts.Required(command, "--out", "DIR", "a directory to write the world to");
        command.SetAction(p => Run(new WorldConfig(p.GetValue(seed), p.GetValue(people), p.GetValue(paraphrases)), p.GetValue(outDir)!, stdout, stderr));
        return command;
    }

    private static int Run(WorldConfig config, string outDir, TextWriter stdout, TextWriter stderr)
    {
        outDir = OutputPaths.Directory(outDir, "--out");

        var world = WorldTasks.build(config);
        WriteLines(Path.Combine(outDir, "background.txt"), world.BackgroundCorpus.Select(p => p.Text));
        WriteLines(Path.Combine(outDir, "target.txt"), world.TargetCorpus.Select(p => p.Text));
        WriteLines(Path.Combine(outDir, "target.spans.jsonl"), world.TargetCorpus.Select(p => JsonSerializer.Serialize(new
        {
            text = p.Text,
            sentences = p.Sentences.Select(s => new[] { s.Start, s.End }),
            spans = p.Spans.Select(s => new object[] { s.Item1.Start, s.Item1.End, s.Item2 }),
        }, Json)));

        var tasks = new (string Name, Func<GeneratedWorld, Split, Microsoft.FSharp.Collections.FSharpList<TaskExample>> Make)[]
        {
            ("world-cbqa", WorldTasks.closedBook),
            ("world-occupation", WorldTasks.occupation),
            ("world-slot", WorldTasks.slotFilling),
            ("world-cqa", WorldTasks.contextQA),
            ("world-bio", WorldTasks.biography),
        };
        foreach (var (name, make) in tasks)
        foreach (var split in new[] { Split.Train, Split.Dev, Split.Test })
        {
            var examples = make(world, split);
            WriteLines(Path.Combine(outDir, $"{name}.{SplitModule.name(split)}.jsonl"), examples.Select(e => JsonSerializer.Serialize(new
            {
                id = e.Id,
                input = e.Source,
                output = e.Targets.Select(t => new { answer = t }),
                meta = new { context = e.Context?.Value, options = e.Options },
            }, Json)));
        }
        stderr.WriteLine($"world: {world.BackgroundCorpus.Length} + {world.TargetCorpus.Length} paragraphs, tasks in {outDir}");
        stdout.WriteLine($"fingerprint={WorldTasks.fingerprint(world)}");
        return 0;
    }

    /// Written beside and renamed, so an interrupted run never leaves a half-written file.
    private static void WriteLines(string path, IEnumerable<string> lines)
    {
        var tmp = AtomicFile.tempFor(path);
        File.WriteAllLines(tmp, lines, new UTF8Encoding(false));
        AtomicFile.commit(tmp, path);
    }
}
