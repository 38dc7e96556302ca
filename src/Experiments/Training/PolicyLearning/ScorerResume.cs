using Masking.Model;

namespace Masking.Experiments.Training;

/// <summary>Where an interrupted learn-policy run takes up again: its scorer, optimiser state and step.</summary>
internal sealed record ScorerResume(Scorer Scorer, AdamWState? Optimizer, long Step, IReadOnlyDictionary<string, string> Progress)
{
    /// <summary>The scorer, its optimiser state and the step of the last progress checkpoint, with the checkpoint's
    /// other fields (and the metrics logged after it dropped); or the fresh scorer at step 0.</summary>
    public static ScorerResume From(RunDirectory dir, StageEnvironment env, Scorer fresh)
    {
        if (!File.Exists(dir.LastCheckpoint))
        {
            // Killed before its first checkpoint: the lines it logged are dropped, as they will be logged again.
            dir.TruncateMetricsAfter(0);
            return new ScorerResume(fresh, null, 0, new Dictionary<string, string>());
        }
        var (scorer, optimizer, meta) = Scorer.Load(dir.LastCheckpoint, env.Device);
        var step = StageInputs.StepOf(dir.LastCheckpoint, meta);
        env.Log.WriteLine($"learn-policy: resuming from step {step} ({dir.LastCheckpoint})");
        dir.TruncateMetricsAfter(step);
        return new ScorerResume(scorer with { Kind = fresh.Kind }, optimizer, step, meta);
    }
}
