using System.Diagnostics;
using System.Text.Json;
using Masking.Experiments.Grid;
using Xunit;

namespace Masking.Experiments.Tests;

public class GridEstimateTests
{
    private static Cell Finetune(string task, int seed) => new($"finetune/a/{task}/seed{seed}", CellKind.Finetune, ["pretrain"]) { Task = task, Seed = seed };

    [Fact]
    public void Cells_are_expected_to_take_as_long_as_finished_ones_of_their_kind_and_task()
    {
        var estimate = new GridEstimate(parallel: 2);
        estimate.Finished(new Cell("pretrain", CellKind.Pretrain, []), 600);
        estimate.Finished(Finetune("nq", 1), 30);
        estimate.Finished(Finetune("ay2", 1), 90);
        Assert.Equal(30, estimate.Expected(Finetune("nq", 2)));
        Assert.Equal(90, estimate.Expected(Finetune("ay2", 2)));
        Assert.Equal(60, estimate.Expected(Finetune("quartz", 1))); // no quartz cell yet: any fine-tuning cell
        Assert.Null(estimate.Expected(new Cell("ipt/rand", CellKind.Intermediate, ["pretrain"])));
        // Pending 2 × 30 s + a running ay2 cell 40 s in: (60 + 50) / 2 parallel = 55 s; the IPT cell is named, not guessed.
        var left = estimate.Left([Finetune("nq", 2), Finetune("nq", 3), new Cell("ipt/rand", CellKind.Intermediate, ["pretrain"])],
            [(Finetune("ay2", 2), 40.0)]);
        Assert.Equal("about 00:55 left + 1 intermediate cell not yet timed", left);
        Assert.Equal("2 intermediate cells not yet timed",
            estimate.Left([new Cell("ipt/a", CellKind.Intermediate, []), new Cell("ipt/b", CellKind.Intermediate, [])], []));
    }

    [Theory]
    [InlineData(65, "01:05")]
    [InlineData(3599, "59:59")]
    [InlineData(3723, "1:02:03")]
    [InlineData(93600, "26:00:00")]
    public void Clocks_show_hours_once_there_are_any(int seconds, string shown) =>
        Assert.Equal(shown, Cli.Durations.Clock(TimeSpan.FromSeconds(seconds)));
}

public class GridDryRunTests
{
    /// <summary>The paper preset starts from a Hugging Face BART directory (here one the parity script generates,
    /// with the 512 positions the preset's inputs need): the dry run reads it whole and lists the cells, with no
    /// general pre-training among them.</summary>
    [PythonTorchFact]
    public void The_paper_preset_dry_run_validates_its_init_model_and_lists_the_cells_without_pretraining()
    {
        var init = CliRunner.TempPath("");
        HuggingFaceTests.Python("make", init, "5", "512");
        var outDir = CliRunner.TempPath("");
        var r = CliRunner.Run("grid", "--config", Repository.Config("paper"), "--init", init, "--out", outDir, "--dry-run");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var cells = GridPlan.Cells(GridConfig.Load(Repository.Config("paper")) with { Init = init });
        Assert.DoesNotContain(cells, c => c.Kind == CellKind.Pretrain);
        Assert.Contains($"init {init}: d_model 32, 2+2 layers, 4 heads", r.Stdout);
        Assert.Contains($"grid paper: {cells.Count} cells in ", r.Stdout);
        Assert.Contains("  finetune/ssm/nq/seed5\n", r.Stdout);
        Assert.Contains("  policy/supervised-nq\n", r.Stdout);
        Assert.False(Directory.Exists(Path.Combine(outDir, "pretrain")), "a dry run trained");
        Assert.False(Directory.Exists(Path.Combine(outDir, "ipt")), "a dry run trained");
    }

    [Fact]
    public void A_dry_run_whose_init_model_is_missing_or_too_short_says_so()
    {
        var outDir = CliRunner.TempPath("");
        var missing = CliRunner.TempPath("");
        var r = CliRunner.Run("grid", "--config", Repository.Config("paper"), "--init", missing, "--out", outDir, "--dry-run");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"{Path.Combine(missing, "config.json")}:0: init: expected a Hugging Face BART directory", r.Stderr);
    }

    [PythonTorchFact]
    public void A_dry_run_refuses_an_init_model_with_fewer_positions_than_the_inputs()
    {
        var init = CliRunner.TempPath("");
        HuggingFaceTests.Python("make", init, "5");
        var r = CliRunner.Run("grid", "--config", Repository.Config("paper"), "--init", init, "--out", CliRunner.TempPath(""), "--dry-run");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("512 is more than init's 64 positions", r.Stderr);
    }

    [Fact]
    public void A_local_dry_run_lists_the_cells_by_stage_and_trains_nothing()
    {
        var outDir = CliRunner.TempPath("");
        var r = CliRunner.Run("grid", "--config", Repository.Config("demo"), "--out", outDir, "--dry-run");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var cells = GridPlan.Cells(GridConfig.Load(Repository.Config("demo")));
        Assert.StartsWith($"grid demo: {cells.Count} cells in ", r.Stdout);
        Assert.Contains("  pretrain\n", r.Stdout);
        Assert.Contains("  finetune/ssm/world-cbqa/seed2\n", r.Stdout);
        Assert.False(Directory.Exists(Path.Combine(outDir, "pretrain")), "a dry run trained");
    }
}
