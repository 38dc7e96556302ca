using System.Text.Json;
using Masking.Model;
using Microsoft.FSharp.Collections;
using TorchSharp;

namespace Masking.Experiments.Training;

/// <summary>The trainable state: model configuration, parameters and AdamW moments, saved and loaded whole.</summary>
public sealed class ModelState
{
    public ModelConfig Config { get; }
    public FSharpMap<string, torch.Tensor> Parameters { get; private set; }
    public AdamWState Optimizer { get; set; }

    private ModelState(ModelConfig config, FSharpMap<string, torch.Tensor> parameters, AdamWState optimizer)
    {
        Config = config;
        Parameters = parameters;
        Optimizer = optimizer;
    }

    public static ModelState Fresh(ModelConfig config, long seed, torch.Device device)
    {
        var p = ParametersModule.init(config, seed, device);
        return new ModelState(config, p, AdamW.init(p));
    }

    /// <summary>A model read from its directory (one of our runs or Hugging Face's), with fresh moments: a new stage.</summary>
    public static ModelState FromModelDirectory(string directory, torch.Device device)
    {
        var (config, parameters) = HuggingFace.ModelDirectory.LoadModel(directory, device);
        return new ModelState(config, parameters, AdamW.init(parameters));
    }

    /// <summary>The training checkpoint: parameters (and, for resuming, the optimizer's moments) with metadata, atomically.</summary>
    public void Save(string path, IReadOnlyDictionary<string, string> meta, bool withOptimizer)
    {
        var tensors = new List<Tuple<string, torch.Tensor>>();
        foreach (var kv in Parameters) tensors.Add(Tuple.Create("param/" + kv.Key, kv.Value));
        if (withOptimizer)
        {
            foreach (var kv in Optimizer.M) tensors.Add(Tuple.Create("adam.m/" + kv.Key, kv.Value));
            foreach (var kv in Optimizer.V) tensors.Add(Tuple.Create("adam.v/" + kv.Key, kv.Value));
        }
        var all = new Dictionary<string, string>(meta)
        {
            ["model_config"] = JsonSerializer.Serialize(Config),
            ["adam_step"] = Optimizer.Step.ToString(),
        };
        Checkpoint.save(path, ListModule.OfSeq(tensors), MapModule.OfSeq(all.Select(kv => Tuple.Create(kv.Key, kv.Value))));
    }

    /// <summary>NaN weights would otherwise surface as a divergence at the first step, blamed on training.</summary>
    internal static void RequireFinite(string file, string name, torch.Tensor parameter)
    {
        // Each temporary is held until the native call that reads it returns: an unreferenced wrapper can be
        // finalized (its tensor freed) while libtorch still reads it (see FlatAdamW.pack, README "Native memory").
        using var elementwise = torch.isfinite(parameter);
        using var finite = elementwise.all();
        if (!finite.item<bool>()) throw new InputError($"{file}:0: parameter {name} holds NaN or infinite values");
    }

    /// <summary>Loads a training checkpoint; without its optimizer state the moments start at zero (a new stage).</summary>
    public static (ModelState State, IReadOnlyDictionary<string, string> Meta) Load(string path, torch.Device device, bool withOptimizer)
    {
        var loaded = Checkpoint.load(path, device);
        if (loaded.IsError) throw new InputError(loaded.ErrorValue);
        var (tensors, meta) = loaded.ResultValue;
        var config = CheckpointFields.Json<ModelConfig>(CheckpointFields.Text(meta, path, "model_config"), path, "model_config");
        var shapes = ParametersModule.shapes(config).ToList();
        var names = shapes.Select(s => s.Item1).ToList();
        var missing = names.FirstOrDefault(n => !tensors.ContainsKey("param/" + n));
        if (missing is not null) throw new InputError($"{path}:0: expected parameter {missing} in the checkpoint");
        foreach (var (name, shape) in shapes)
        {
            var t = tensors["param/" + name];
            if (!t.shape.SequenceEqual(shape))
                throw new InputError($"{path}:0: expected parameter {name} of shape [{string.Join(", ", shape)}], found [{string.Join(", ", t.shape)}]");
            RequireFinite(path, name, t);
        }
        var p = MapModule.OfSeq<string, torch.Tensor>(names.Select(n => Tuple.Create(n, tensors["param/" + n].requires_grad_(true))));
        var optimizer = AdamW.init(p);
        if (withOptimizer && tensors.ContainsKey("adam.m/" + names[0]))
            optimizer = new AdamWState(
                CheckpointFields.Long(CheckpointFields.Text(meta, path, "adam_step"), path, "adam_step"),
                MapModule.OfSeq<string, torch.Tensor>(names.Select(n => Tuple.Create(n, tensors["adam.m/" + n]))),
                MapModule.OfSeq<string, torch.Tensor>(names.Select(n => Tuple.Create(n, tensors["adam.v/" + n]))));
        else
            // Freed now rather than by finalizers (each such free is a call into libtorch on the finalizer thread).
            foreach (var kv in tensors.Where(kv => !kv.Key.StartsWith("param/", StringComparison.Ordinal))) kv.Value.Dispose();
        return (new ModelState(config, p, optimizer), meta.ToDictionary(kv => kv.Key, kv => kv.Value));
    }
}
