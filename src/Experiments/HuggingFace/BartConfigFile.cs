using System.Text.Json;
using Masking.Model;
using Microsoft.FSharp.Core;

namespace Masking.Experiments.HuggingFace;

/// <summary>The token ids of a BART model that our <see cref="ModelConfig"/> does not carry.</summary>
public sealed record BartTokenIds(int Bos, int Pad, int Eos, int DecoderStart, int? ForcedBos, int? ForcedEos);

/// <summary>
/// A Hugging Face BART <c>config.json</c> (BartConfig's keys) as our model configuration, the special ids, and
/// the generation settings it and <c>generation_config.json</c> give. Only what our model computes is
/// accepted: anything else (another model type, mBART's pre-norm, another activation, encoder and decoder of
/// different widths) is refused with the key and its value.
/// </summary>
public static class BartConfigFile
{
    public static (ModelConfig Config, BartTokenIds Ids, JsonElement Root) Read(string path)
    {
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InputError($"{path}:{(e.LineNumber ?? 0) + 1}: expected a BartConfig JSON object ({e.Message})");
        }
        catch (IOException e)
        {
            throw new InputError($"{path}:0: cannot read the model configuration ({e.Message})");
        }
        if (root.ValueKind != JsonValueKind.Object) throw new InputError($"{path}:1: expected a BartConfig JSON object");

        string Str(string key, string fallback) =>
            root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : fallback;
        int Int(string key, int? fallback = null)
        {
            if (root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i)) return i;
            if (root.TryGetProperty(key, out v) && v.ValueKind != JsonValueKind.Null)
                throw new InputError($"{path}:0: \"{key}\": expected an integer, found {v.GetRawText()}");
            return fallback ?? throw new InputError($"{path}:0: expected \"{key}\" in the model configuration");
        }
        int? OptionalInt(string key) =>
            root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? Int(key) : null;
        double Double(string key, double fallback) =>
            root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : fallback;
        bool Bool(string key, bool fallback) =>
            root.TryGetProperty(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;
        void Refuse(string key, string value, string why) => throw new InputError($"{path}:0: \"{key}\": {value} is not supported ({why})");

        var modelType = Str("model_type", "");
        // "mbart" is how Masking writes its own pre-norm models (pretrain --pre-norm): mBART's layout, which is
        // BART's tensors plus a final layer norm per stack, with pre-norm layers.
        if (modelType is not ("bart" or "mbart")) Refuse("model_type", $"\"{modelType}\"", "expected \"bart\" (or \"mbart\")");
        var preNorm = modelType == "mbart";
        if (Bool("normalize_before", false)) Refuse("normalize_before", "true", "pre-norm in a BART config; BART is post-norm (mBART's layout is model_type \"mbart\")");
        if (Bool("add_final_layer_norm", false)) Refuse("add_final_layer_norm", "true", "final layer norms in a BART config (mBART's layout is model_type \"mbart\")");
        if (Bool("add_bias_logits", false)) Refuse("add_bias_logits", "true", "BART adds final_logits_bias only");
        var activation = Str("activation_function", "gelu");
        if (activation != "gelu") Refuse("activation_function", $"\"{activation}\"", "this model computes the exact GELU");
        var heads = Int("encoder_attention_heads");
        if (Int("decoder_attention_heads") != heads) Refuse("decoder_attention_heads", Int("decoder_attention_heads").ToString(), $"the encoder has {heads}: one head count for both");
        var ffn = Int("encoder_ffn_dim");
        if (Int("decoder_ffn_dim") != ffn) Refuse("decoder_ffn_dim", Int("decoder_ffn_dim").ToString(), $"the encoder has {ffn}: one width for both");

        // BartConfig's own defaults where a key is absent: forced_eos_token_id is 2 unless set (null turns it off).
        var ids = new BartTokenIds(Int("bos_token_id", 0), Int("pad_token_id", 1), Int("eos_token_id", 2), Int("decoder_start_token_id", 2),
            OptionalInt("forced_bos_token_id"), root.TryGetProperty("forced_eos_token_id", out _) ? OptionalInt("forced_eos_token_id") : 2);
        // Hugging Face's BART keeps max_position_embeddings + 2 position rows (its offset 2), as ours does.
        var config = new ModelConfig(Int("vocab_size"), Int("d_model"), Int("encoder_layers"), Int("decoder_layers"), heads, ffn,
            Int("max_position_embeddings"), Double("dropout", 0.1), Double("attention_dropout", 0.0), Double("activation_dropout", 0.0),
            preNorm, Bool("scale_embedding", false), ids.Pad, ids.DecoderStart, ids.Eos);
        var valid = ModelConfigModule.validate(config);
        if (valid.IsError) throw new InputError($"{path}:0: {valid.ErrorValue}");
        return (config, ids, root);
    }

    /// <summary>
    /// A BartConfig <c>config.json</c> for one of Masking's own models (pre-norm ones as mBART's). No token is
    /// forced in generation (Masking's own stages train labels without &lt;s&gt;), and BartConfig's default
    /// forced_eos_token_id is turned off with null, so Hugging Face generates what Masking's evaluation does.
    /// </summary>
    public static string Write(ModelConfig c, int bosId)
    {
        var o = new System.Text.Json.Nodes.JsonObject
        {
            ["model_type"] = c.PreNorm ? "mbart" : "bart",
            ["architectures"] = new System.Text.Json.Nodes.JsonArray(c.PreNorm ? "MBartForConditionalGeneration" : "BartForConditionalGeneration"),
            ["vocab_size"] = c.VocabSize, ["d_model"] = c.DModel,
            ["encoder_layers"] = c.EncoderLayers, ["decoder_layers"] = c.DecoderLayers,
            ["encoder_attention_heads"] = c.Heads, ["decoder_attention_heads"] = c.Heads,
            ["encoder_ffn_dim"] = c.FfnDim, ["decoder_ffn_dim"] = c.FfnDim,
            ["max_position_embeddings"] = c.MaxPositions, ["activation_function"] = "gelu",
            ["scale_embedding"] = c.ScaleEmbedding,
            ["dropout"] = c.Dropout, ["attention_dropout"] = c.AttentionDropout, ["activation_dropout"] = c.ActivationDropout,
            ["pad_token_id"] = c.PadId, ["bos_token_id"] = bosId, ["eos_token_id"] = c.EosId,
            ["decoder_start_token_id"] = c.DecoderStartId, ["forced_eos_token_id"] = null,
            ["is_encoder_decoder"] = true, ["tie_word_embeddings"] = true, ["init_std"] = 0.02,
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>Generation settings as Hugging Face's generate builds them: its defaults, then the keys of
    /// config.json, then generation_config.json (when present); the command line overrides them after.</summary>
    public static GenerationSettings Generation(JsonElement config, string? generationConfigPath, BartTokenIds ids)
    {
        var s = new GenerationSettings(20, 0, 1, 1.0, false, 0, ToOption(ids.ForcedBos), ToOption(ids.ForcedEos), true);
        s = Apply(s, config, "config.json");
        if (generationConfigPath is not null && File.Exists(generationConfigPath))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(generationConfigPath));
                s = Apply(s, doc.RootElement, generationConfigPath);
            }
            catch (JsonException e)
            {
                throw new InputError($"{generationConfigPath}:{(e.LineNumber ?? 0) + 1}: expected a JSON object ({e.Message})");
            }
        }
        return s;
    }

    private static FSharpOption<int> ToOption(int? id) => id is { } v ? FSharpOption<int>.Some(v) : FSharpOption<int>.None;

    private static GenerationSettings Apply(GenerationSettings s, JsonElement e, string file)
    {
        int Int(string key, int current) =>
            e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : current;
        double Dbl(string key, double current) =>
            e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : current;
        FSharpOption<int> Opt(string key, FSharpOption<int> current) =>
            !e.TryGetProperty(key, out var v) ? current
            : v.ValueKind == JsonValueKind.Null ? FSharpOption<int>.None
            : v.TryGetInt32(out var i) ? FSharpOption<int>.Some(i) : current;
        var early = s.EarlyStopping;
        if (e.TryGetProperty("early_stopping", out var es))
        {
            if (es.ValueKind is JsonValueKind.True or JsonValueKind.False) early = es.GetBoolean();
            else throw new InputError($"{file}:0: \"early_stopping\": {es.GetRawText()} is not supported (expected true or false)");
        }
        return new GenerationSettings(Int("max_length", s.MaxLength), Int("min_length", s.MinLength), Int("num_beams", s.NumBeams),
            Dbl("length_penalty", s.LengthPenalty), early, Int("no_repeat_ngram_size", s.NoRepeatNgramSize),
            Opt("forced_bos_token_id", s.ForcedBosId), Opt("forced_eos_token_id", s.ForcedEosId),
            e.TryGetProperty("use_cache", out var uc) && uc.ValueKind is JsonValueKind.True or JsonValueKind.False ? uc.GetBoolean() : s.UseCache);
    }
}
