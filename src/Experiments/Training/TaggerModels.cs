using Masking.Taggers;

namespace Masking.Experiments.Training;

/// <summary>The shipped tagger models (models/pos.tagger, models/ner.tagger above the executable), for the
/// commands and the stages alike.</summary>
public static class TaggerModels
{
    public static string? Default(string kind)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "models", kind + ".tagger");
            if (File.Exists(path)) return path;
        }
        return null;
    }

    public static TaggerModel Load(string kind, string? path)
    {
        path ??= Default(kind) ?? throw new InputError($"no {kind} model: pass --model FILE or run `masking tag train --kind {kind}`");
        var m = TaggerFile.load(path);
        if (m.IsError) throw new InputError(m.ErrorValue);
        var found = m.ResultValue.Kind.IsPosTagger ? "pos" : "ner";
        return found == kind ? m.ResultValue : throw new InputError($"{path}:0: expected a {kind} tagger, found a {found} tagger");
    }
}
