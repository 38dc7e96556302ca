using Masking.Learned;

namespace Masking.Experiments.Training;

/// <summary>What a supervised scorer's span F1 is compared with: spans chosen without learning.</summary>
internal static class SpanBaselines
{
    /// <summary>
    /// Expected span F1 of a uniformly random span (start anywhere, 1–10 tokens) and of a uniformly random salient
    /// span (entity, date or number by rule: what SSM picks from), against the gold answer spans.
    /// </summary>
    public static (double RandomSpan, double RandomEntity) Of(List<Located> located)
    {
        if (located.Count == 0) return (0, 0);
        double spanTotal = 0;
        foreach (var d in located)
        {
            var n = d.Tokens.Length - 2;
            double sum = 0;
            var count = 0;
            for (var start = 1; start <= n; start++)
                for (var length = 1; length <= 10 && start + length <= n + 1; length++)
                {
                    sum += SpanScorer.spanF1(new Span(start, start + length), d.Answer);
                    count++;
                }
            spanTotal += count == 0 ? 0 : sum / count;
        }
        return (spanTotal / located.Count, RandomEntity(located));
    }

    private static double RandomEntity(List<Located> located)
    {
        double total = 0;
        foreach (var d in located)
        {
            var context = d.Example.Context?.Value;
            if (context is null) continue;
            var entities = Masking.Text.SalientSpans.find(context);
            if (entities.Length == 0) continue;
            // Entity character spans → the answer's character span, compared as character-overlap F1.
            var at = context.IndexOf(d.Example.Targets.Head, StringComparison.OrdinalIgnoreCase);
            var gold = new Span(at, at + d.Example.Targets.Head.Length);
            total += entities.Average(e => SpanScorer.spanF1(e.Item1, gold));
        }
        return total / located.Count;
    }
}
