using Masking.Policies;
using Masking.Text;

namespace Masking.Facade;

/// <summary>A half-open token range [Start, End).</summary>
public readonly record struct TokenSpan(int Start, int End)
{
    public int Length => End - Start;
}

/// <summary>An annotated token span (entity, date, answer candidate).</summary>
public sealed record SpanAnnotation(TokenSpan Span, string Label);

/// <summary>A candidate span with a learned score, for the <c>scored</c> policy.</summary>
public sealed record SpanScore(TokenSpan Span, double Score);

/// <summary>What a policy masks: tokens plus optional word starts, sentences, annotations and scores.</summary>
public sealed record MaskInput(IReadOnlyList<int> Tokens)
{
    /// <summary>One flag per token; when empty, every token starts a word.</summary>
    public IReadOnlyList<bool> WordStarts { get; init; } = [];
    public IReadOnlyList<TokenSpan> Sentences { get; init; } = [];
    public IReadOnlyList<SpanAnnotation> Annotations { get; init; } = [];
    public IReadOnlyList<SpanScore> Scores { get; init; } = [];
}

/// <summary>A policy's output: encoder input, decoder target and the masked spans of the original.</summary>
public sealed record MaskResult(IReadOnlyList<int> Source, IReadOnlyList<int> Target, IReadOnlyList<TokenSpan> Spans);

/// <summary>A built masking policy: a pure function of (input, seed).</summary>
public sealed class MaskingPolicy
{
    private readonly Policy _policy;
    private readonly TextTokenizer _tokenizer;

    internal MaskingPolicy(Policy policy, TextTokenizer tokenizer)
    {
        _policy = policy;
        _tokenizer = tokenizer;
    }

    /// <summary>The canonical spec of this policy.</summary>
    public string Name => _policy.Name;

    /// <summary>Masks one example with the seed of (run seed, epoch, example index); see <see cref="MaskSeeds"/>.</summary>
    /// <exception cref="ArgumentException">The input is inconsistent (ids outside the vocabulary, ranges outside the tokens).</exception>
    public MaskResult Mask(MaskInput input, ulong seed, long step = 0)
    {
        var example = ToExample(input);
        var valid = ExampleModule.validate(_tokenizer.Inner.Specials, example);
        if (valid.IsError) throw new ArgumentException(valid.ErrorValue, nameof(input));
        return ToResult(_policy.Apply.Invoke(new MaskContext(seed, step)).Invoke(example));
    }

    /// <summary>Validates and converts an input once, for masking it many times (every epoch, benchmarks).</summary>
    /// <exception cref="ArgumentException">The input is inconsistent.</exception>
    public PreparedInput Prepare(MaskInput input)
    {
        var example = ToExample(input);
        var valid = ExampleModule.validate(_tokenizer.Inner.Specials, example);
        return valid.IsOk ? new PreparedInput(example) : throw new ArgumentException(valid.ErrorValue, nameof(input));
    }

    /// <summary>Masks a prepared input.</summary>
    public MaskResult Mask(PreparedInput input, ulong seed, long step = 0) =>
        ToResult(_policy.Apply.Invoke(new MaskContext(seed, step)).Invoke(input.Example));

    /// <summary>Tokenizes a text, finds sentences and salient spans by rule, and masks it.</summary>
    public MaskResult MaskText(string text, ulong seed, long step = 0) =>
        ToResult(_policy.Apply.Invoke(new MaskContext(seed, step)).Invoke(SalientSpans.annotate(_tokenizer.Inner, text)));

    /// <summary>Masks an example built by the core (e.g. annotated by a tagger); for the harness, not for C# callers.</summary>
    internal MaskResult MaskExample(Example example, ulong seed, long step = 0) =>
        ToResult(_policy.Apply.Invoke(new MaskContext(seed, step)).Invoke(example));

    /// <summary>Recovers the original tokens from a result, or null when this policy keeps no parts to check
    /// with (mixtures and schedules).</summary>
    public IReadOnlyList<int>? Recover(MaskResult result)
    {
        if (_policy.Parts is null) return null;
        var parts = _policy.Parts.Value;
        var masked = new Masked(result.Source.ToArray(), result.Target.ToArray(),
            result.Spans.Select(s => new Span(s.Start, s.End)).ToArray());
        var r = Masking.Policies.Recover.original(_tokenizer.Inner.Specials, parts.Replace, parts.Target, masked);
        return r.IsOk ? r.ResultValue : throw new InvalidOperationException(r.ErrorValue);
    }

    private static Example ToExample(MaskInput input)
    {
        var tokens = input.Tokens.ToArray();
        var starts = input.WordStarts.Count == 0 ? Enumerable.Repeat(true, tokens.Length).ToArray() : input.WordStarts.ToArray();
        return new Example(
            tokens,
            starts,
            input.Sentences.Select(s => new Span(s.Start, s.End)).ToArray(),
            input.Annotations.Select(a => new Annotation(new Span(a.Span.Start, a.Span.End), a.Label)).ToArray(),
            input.Scores.Select(s => new ScoredSpan(new Span(s.Span.Start, s.Span.End), s.Score)).ToArray());
    }

    private static MaskResult ToResult(Masked m) =>
        new(m.Source, m.Target, m.Spans.Select(s => new TokenSpan(s.Start, s.End)).ToArray());
}

/// <summary>An input validated and converted once; opaque to callers.</summary>
public sealed class PreparedInput
{
    internal Example Example { get; }
    internal PreparedInput(Example example) => Example = example;
    public int Length => Example.Tokens.Length;
}

/// <summary>Seeds for masks: derived from (run seed, epoch, example index), never from a global generator.</summary>
public static class MaskSeeds
{
    public static ulong Derive(ulong runSeed, int epoch, long exampleIndex) => Seeds.derive(runSeed, epoch, exampleIndex);
}
