using System.Text.Json;

namespace Masking.Experiments.Data;

/// <summary>One file of a task: where it comes from, where it goes under the data root, and its SHA-256
/// (null when no trusted copy was available to hash: the first download records it, see <see cref="Downloader"/>).</summary>
public sealed record DataFile(string Url, string Path, string? Sha256);

/// <summary>
/// The files each task reads, at the public addresses and commits their SOURCE.md files name. Hashes are those
/// of the copies in ../shared/data, which SOURCE.md ties to the same commits; files whose copies were altered
/// (line endings) or that were never copied have none.
/// </summary>
public static class DataManifest
{
    private static string GitHub(string repo, string commit, string path) => $"https://raw.githubusercontent.com/{repo}/{commit}/{path}";

    private const string Anserini = "castorini/anserini-tools";
    private const string AnseriniCommit = "43add835e20bd66b48f9a640be9bad95a4762d82";
    private const string CrossFit = "VivHarsha/rethinking-demonstrations";
    private const string CrossFitCommit = "01150afac85c90f6fc85251c05c4bf05b841809b";

    public static IReadOnlyDictionary<string, IReadOnlyList<DataFile>> BuiltIn { get; } = new Dictionary<string, IReadOnlyList<DataFile>>
    {
        ["tqa"] =
        [
            new(GitHub(Anserini, AnseriniCommit, "topics/topics.dpr.trivia.dev.txt"), "triviaqa_open/topics.dpr.trivia.dev.txt", "79e7ea851bb5ca6ebbfd6c760d032064d324166d46b8ffaf70e0fb733186ed2a"),
            new(GitHub(Anserini, AnseriniCommit, "topics/topics.dpr.trivia.test.txt"), "triviaqa_open/topics.dpr.trivia.test.txt", "041ed9ddd2977c7fe452d290cf60e1f7e0a803977b0f912e234d218261c10e57"),
        ],
        ["nq"] =
        [
            new(GitHub("google-research-datasets/natural-questions", "a7d6452c0905c7772e9fbbb9a20b5fcab07c668f", "nq_open/NQ-open.dev.jsonl"), "nq_open/NQ-open.dev.jsonl", "f15567f38099f3615f5b8a685c0aef449c11ad90d3da3735e8d1b98115b40616"),
            new(GitHub(Anserini, AnseriniCommit, "topics/topics.nq.dev.txt"), "nq_open/topics.nq.dev.txt", "9c168e4eb4006fa7cc44b67a1e903767a2a9f8b70e24110f3d1aa78561f03774"),
        ],
        ["wq"] =
        [
            new(GitHub("brmson/dataset-factoid-webquestions", "659fe0f50416d9803674562237c58d49aa95665e", "main/trainmodel.json"), "webquestions/trainmodel.json", "eef8b21e5b65697b643f3904c4f1122f077a8afdf3dc91a2058d3cf7d34baa50"),
            new(GitHub("brmson/dataset-factoid-webquestions", "659fe0f50416d9803674562237c58d49aa95665e", "main/val.json"), "webquestions/val.json", "eece8cddb324972d55bae4ac05eb06d728bc6e4111585509391efcff5c29e063"),
            new(GitHub("brmson/dataset-factoid-webquestions", "44667962d59907990a12d1ce07d03685c5bfb052", "main/devtest.json"), "webquestions/devtest.json", "2541838645f7b8a6f24c4f409f12568b1616095f2edb6280eec924ea3df123c8"),
            new(GitHub("brmson/dataset-factoid-webquestions", "659fe0f50416d9803674562237c58d49aa95665e", "main/test.json"), "webquestions/test.json", "de320953700cd08300b9bcd2e60399da43b458a1be02db3f93c40344729fed39"),
        ],
        ["ay2"] =
        [
            new(GitHub("kamalkraj/BERT-NER", "b88dae7241db90716ec40f33a356af9623406ddd", "data/train.txt"), "conll2003/train.txt", "213953b5522fb7924802d883e50f027b2c6ffb5d4d0e63368ed82909f9b60423"),
            new(GitHub("kamalkraj/BERT-NER", "b88dae7241db90716ec40f33a356af9623406ddd", "data/valid.txt"), "conll2003/valid.txt", "c02eb19809eafb83998326a0481942eb37d96f31826ae387cfe8773699969f5b"),
            new(GitHub("kamalkraj/BERT-NER", "b88dae7241db90716ec40f33a356af9623406ddd", "data/test.txt"), "conll2003/test.txt", "dc4ac7f3d6d01a6bec59261814561da3b287b6b493b97d1f69c580b52ec1831b"),
            // The shared copy had its CRLF line endings changed, so its hash says nothing about the original.
            new(GitHub("ChadiHelwe/LLaMA-Adapter-Entitiy", "a2044989c229d27e05681d00daaed1062e6a0215", "data/AIDA-YAGO2-annotations.tsv"), "aida_conll_yago/AIDA-YAGO2-annotations.tsv", null),
        ],
        ["zsre"] =
        [
            new(GitHub(CrossFit, CrossFitCommit, "data/kilt_zsre/kilt_zsre_16_100_test.jsonl"), "crossfit_format/kilt_zsre_16_100_test.jsonl", "8cb772b0cae4aeb3bfab11839eda11f4e9bba982dc2daf7a18d3fa523329dd6f"),
        ],
        ["wow"] =
        [
            // The full KILT release (the shared data hold only its first records).
            new("http://dl.fbaipublicfiles.com/KILT/wow-train-kilt.jsonl", "kilt/wow-train-kilt.jsonl", null),
            new("http://dl.fbaipublicfiles.com/KILT/wow-dev-kilt.jsonl", "kilt/wow-dev-kilt.jsonl", null),
        ],
        ["wiqa"] =
        [
            new(GitHub(CrossFit, CrossFitCommit, "data/wiqa/wiqa_16_100_test.jsonl"), "crossfit_format/wiqa_16_100_test.jsonl", "52c281e35ca0e13f2c4e116e3dd4d171b9c9b441b9909591b1f661fa06140281"),
        ],
        ["quartz"] =
        [
            new(GitHub("INK-USC/ReCross", "bd4312e5d7221a3ce71ebc04376fdcc29b1db535", "data/quartz/upstream-5000.json"), "quartz_promptsource/upstream-5000.json", "c574a72bc7993bf42803c98526bd26a0e828767619a62cdb069d96829f0c5a41"),
            new(GitHub(CrossFit, CrossFitCommit, "data/quartz-with_knowledge/quartz-with_knowledge_16_100_test.jsonl"), "crossfit_format/quartz-with_knowledge_16_100_test.jsonl", "5db56e280541eecb2e2be701b5e6db51d4a7090ec2338a578e511e15b97e2c36"),
        ],
        ["ropes"] =
        [
            new(GitHub("chen-steven/BERT-ROPES", "f06ac76c2cb31dbc37e78f137cba6edcc3c04dda", "data/ropes/train-v1.0.json"), "ropes/train-v1.0.json", "7b6e907c152da8376e33d206e0d219b5619685aeb8a7c3cff26cd15bbf1cb3df"),
            new(GitHub("chen-steven/BERT-ROPES", "f06ac76c2cb31dbc37e78f137cba6edcc3c04dda", "data/ropes/dev-v1.0.json"), "ropes/dev-v1.0.json", "8f4566fc07769ecf2fa8c21927a1b63281cff562393a1ad674a31beee3f29665"),
        ],
    };

    /// <summary>A manifest file: <c>{"TASK": [{"url", "path", "sha256"}, ...], ...}</c>.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<DataFile>> Load(string path)
    {
        if (!File.Exists(path)) throw new InputError($"{path}:0: expected a manifest file");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var result = new Dictionary<string, IReadOnlyList<DataFile>>();
            foreach (var task in doc.RootElement.EnumerateObject())
                result[task.Name] = task.Value.EnumerateArray().Select(f => new DataFile(
                    f.GetProperty("url").GetString() ?? throw new InputError($"{path}:0: expected a \"url\" string"),
                    f.GetProperty("path").GetString() ?? throw new InputError($"{path}:0: expected a \"path\" string"),
                    f.TryGetProperty("sha256", out var h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null)).ToList();
            return result;
        }
        catch (JsonException e) { throw new InputError($"{path}:{(e.LineNumber ?? 0) + 1}: expected a JSON manifest ({e.Message.Split('.')[0]})"); }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException)
        { throw new InputError($"{path}:0: expected {{\"TASK\": [{{\"url\", \"path\", \"sha256\"}}]}}"); }
    }
}
