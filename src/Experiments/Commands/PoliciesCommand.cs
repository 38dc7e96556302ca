using Masking.Experiments.Cli;
using Masking.Facade;

namespace Masking.Experiments.Commands;

/// <summary><c>masking policies</c>: every named policy with its knobs and defaults.</summary>
public static class PoliciesCommand
{
    public static int Run(Args args, TextWriter stdout)
    {
        args.EnsureAllUsed("policies");
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
