using Masking.Policies;

namespace Masking.Facade;

/// <summary>A knob of a named policy, as <c>masking policies</c> lists it.</summary>
public sealed record KnobDescription(string Name, IReadOnlyList<string> Aliases, string Default, string Help);

/// <summary>A named masking policy with its knobs and their defaults.</summary>
public sealed record PolicyDescription(string Name, string Summary, IReadOnlyList<KnobDescription> Knobs);

/// <summary>The built-in policies and the spec parser, for C# callers.</summary>
public static class PolicyCatalog
{
    /// <summary>Every named policy, in the order the paper and the anchors introduce them.</summary>
    public static IReadOnlyList<PolicyDescription> All { get; } =
        Named.all
            .Select(p => new PolicyDescription(
                p.Name,
                p.Summary,
                p.Knobs.Select(k => new KnobDescription(k.Name, k.Aliases.ToArray(), k.Default.ToString(), k.Help)).ToArray()))
            .ToArray();

    /// <summary>Builds the policy a spec such as <c>rand:p=0.15</c> or <c>mix(ssm:0.5,rand:0.5)</c> describes.</summary>
    /// <exception cref="PolicySpecException">The spec names an unknown policy or knob, or a bad value.</exception>
    public static MaskingPolicy Parse(string spec, TextTokenizer tokenizer) =>
        TryParse(spec, tokenizer, out var policy, out var error) ? policy! : throw new PolicySpecException(error!);

    /// <summary>Like <see cref="Parse"/>, reporting a bad spec as a one-line error instead of throwing.</summary>
    public static bool TryParse(string spec, TextTokenizer tokenizer, out MaskingPolicy? policy, out string? error)
    {
        var result = PolicySpecModule.resolve(tokenizer.Inner.Specials, spec);
        if (result.IsOk)
        {
            policy = new MaskingPolicy(result.ResultValue, tokenizer);
            error = null;
            return true;
        }
        policy = null;
        error = result.ErrorValue;
        return false;
    }
}

/// <summary>A policy spec that cannot be built; the message names what exists.</summary>
public sealed class PolicySpecException(string message) : ArgumentException(message);
