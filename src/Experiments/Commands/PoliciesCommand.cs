using System.CommandLine;
using Masking.Facade;

namespace Masking.Experiments.Commands;

/// <summary><c>masking policies</c>: every named policy with its knobs and defaults.</summary>
public static class PoliciesCommand
{
    public static Command Build(TextWriter stdout)
    {
        var command = new Command("policies", "list policies, their knobs and defaults, and the combinators");
        command.SetAction(_ => Run(stdout));
        return command;
    }

    private static int Run(TextWriter stdout)
    {
        foreach (var p in PolicyCatalog.All)
        {
            stdout.WriteLine($"{p.Name}  —  {p.Summary}");
            foreach (var k in p.Knobs)
            {
                var aliases = k.Aliases.Count > 0 ? $" (alias {string.Join(", ", k.Aliases)})" : "";
                stdout.WriteLine($"    {k.Name}={k.Default}{aliases}  {k.Help}");
            }
            stdout.WriteLine();
        }
        stdout.WriteLine("Combinators: mix(SPEC:WEIGHT,...), schedule(SPEC@STEP,...), union(SPEC,SPEC), within(SPEC,LABEL|LABEL)");
        stdout.WriteLine("Example specs: rand:p=0.15   mix(ssm:0.5,rand:0.5)   t5:noise_density=0.3,mean_noise_span_length=5");
        return 0;
    }
}
