using System.Text.Json;
using Masking.Experiments.Training;
using Masking.Tasks;
using Microsoft.FSharp.Core;
using TorchSharp;
using Xunit;

namespace Masking.Experiments.Tests;

public class ModuleTests
{
    [Fact]
    public void The_module_registers_every_parameter_and_trains_with_TorchSharp_optimisers()
    {
        using var scope = torch.NewDisposeScope();
        var config = Masking.Model.ModelConfigModule.forVocabulary(Masking.Model.ModelConfigModule.micro, 60, 1, 2, 16);
        var module = Seq2SeqModule.Create(config, 1);
        Assert.Equal(Masking.Model.ParametersModule.shapes(config).Length, module.parameters().Count());
        Assert.Contains(module.named_parameters(), p => p.name == "model_encoder_layers_0_self_attn_q_proj_weight");
        module.eval();
        var source = torch.tensor(new long[] { 0, 5, 6, 7, 2 }).reshape(1, 5);
        var input = torch.tensor(new long[] { 2, 8, 9 }).reshape(1, 3);
        var target = torch.tensor(new long[] { 8, 9, 2 }).reshape(1, 3);
        // The module and the functional forward are the same computation.
        Assert.True(module.forward(source, input).allclose(Masking.Model.Seq2Seq.forward(config, module.Parameters, Masking.Model.Dropout.Off, source, input)));
        var optimizer = torch.optim.AdamW(module.parameters(), lr: 0.01);
        double Loss() => Masking.Model.Loss.labelSmoothed(0.0, 1, module.forward(source, input), target, null).item<float>();
        var first = Loss();
        // TorchSharp's own optimisers pass temporary Scalars (alpha: 1 - beta1, …) to libtorch, the race that
        // Masking's code avoids (see Scalars); no collection may run during their steps, so none finalizes one.
        var noGc = GC.TryStartNoGCRegion(200_000_000);
        try
        {
            for (var i = 0; i < 30; i++)
            {
                optimizer.zero_grad();
                Masking.Model.Loss.labelSmoothed(0.0, 1, module.forward(source, input), target, null).backward();
                optimizer.step();
            }
        }
        finally
        {
            if (noGc && System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }
        Assert.True(Loss() < first / 3, $"{first} → {Loss()}");
    }
}

public class PretrainOptionTests
{
    [Fact]
    public void Pre_norm_and_dropout_options_reach_the_model()
    {
        var dir = CliRunner.TempPath("");
        var (code, err) = MaskingProcess.Run("pretrain", "--preset", "micro", "--vocab-size", "600", "--steps", "2", "--batch-size", "4",
            "--pre-norm", "--dropout", "0", "--threads", "1", "--out", dir);
        Assert.True(code == 0, err);
        Assert.Contains("\"pre_norm\": true", File.ReadAllText(Path.Combine(dir, "run.json")));
        // A pre-norm model is written as mBART's layout, which Hugging Face computes the same way, and read back so.
        Assert.Contains("\"model_type\": \"mbart\"", File.ReadAllText(Path.Combine(dir, "config.json")));
        var state = ModelState.FromModelDirectory(dir, torch.CPU);
        Assert.True(state.Config.PreNorm);
        Assert.Equal(0.0, state.Config.Dropout);
        Assert.True(state.Parameters.ContainsKey("model.encoder.layer_norm.weight"));
    }
}
