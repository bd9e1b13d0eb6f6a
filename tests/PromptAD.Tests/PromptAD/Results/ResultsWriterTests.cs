using System.Text.Json;
using PromptAD.Evaluation;
using PromptAD.Results;

namespace PromptAD.Tests.Results;

public sealed class ResultsWriterTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("promptad-results-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private static RunMetrics Run(string category, int shots, int seed, double imageAuroc, double pixelAuroc = double.NaN) =>
        new(category, shots, seed, "ViT-B-16-plus-240", new EvaluationMetrics(imageAuroc, 0.5, 0.25, pixelAuroc, double.NaN), 12.5, 3.25);

    [Fact]
    public void CsvQuotingFollowsRfc4180()
    {
        Assert.Equal("plain", Csv.Escape("plain"));
        Assert.Equal("\"a,b\"", Csv.Escape("a,b"));
        Assert.Equal("\"say \"\"hi\"\"\"", Csv.Escape("say \"hi\""));
        Assert.Equal("\"two\nlines\"", Csv.Escape("two\nlines"));
        Assert.Equal("\"cr\r\"", Csv.Escape("cr\r"));
        Assert.Equal(string.Empty, Csv.Number(double.NaN));
    }

    [Fact]
    public void ScoresCsv()
    {
        string root = Path.Combine(temp, "data");
        ImageResult[] rows =
        [
            new(Path.Combine(root, "bottle", "test", "good", "000.png"), "good", false, 0.125f, 0.5f, 0.25f),
            new(Path.Combine(root, "bottle", "test", "bro,ken", "001.png"), "bro,ken", true, 0.75f, 1f, 0.0625f),
        ];
        string path = Path.Combine(temp, "scores.csv");
        ResultsWriter.WriteScoresCsv(path, rows, relativeTo: root);
        Assert.Equal(
            "path,defect_type,label,image_score,prompt_score,vision_max\r\n"
            + "bottle/test/good/000.png,good,0,0.125,0.5,0.25\r\n"
            + "\"bottle/test/bro,ken/001.png\",\"bro,ken\",1,0.75,1,0.0625\r\n",
            File.ReadAllText(path));
    }

    [Fact]
    public void MetricsCsvAndJsonArePercentWithNullForMissing()
    {
        RunMetrics m = Run("bottle", 1, 0, 0.9876, pixelAuroc: 0.5);
        string csv = ResultsWriter.MetricsCsv([m]);
        Assert.Equal(
            "category,shots,seed,backbone,image_auroc,image_aupr,image_f1_max,pixel_auroc,pixel_aupro,train_seconds,test_seconds\r\n"
            + "bottle,1,0,ViT-B-16-plus-240," + (0.9876 * 100).ToString("R", System.Globalization.CultureInfo.InvariantCulture) + ",50,25,50,,12.500,3.250\r\n",
            csv);

        string path = Path.Combine(temp, "metrics.json");
        ResultsWriter.WriteMetricsJson(path, m);
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        JsonElement r = doc.RootElement;
        Assert.Equal("bottle", r.GetProperty("category").GetString());
        Assert.Equal(1, r.GetProperty("shots").GetInt32());
        Assert.Equal(98.76, r.GetProperty("image_auroc").GetDouble(), 9);
        Assert.Equal(50, r.GetProperty("pixel_auroc").GetDouble());
        Assert.Equal(JsonValueKind.Null, r.GetProperty("pixel_aupro").ValueKind);
        Assert.Equal(12.5, r.GetProperty("train_seconds").GetDouble());

        using var list = JsonDocument.Parse(MetricsJson.Serialize([m, m]));
        Assert.Equal(2, list.RootElement.GetArrayLength());
    }

    /// <summary>The bytes metrics.json had before the metrics became one record of fractions (written by the
    /// source-generated serializer then), so files compare across versions; an unknown training time is left out.</summary>
    [Fact]
    public void MetricsJson_KeepsItsFormat_AndLeavesOutAnUnknownTrainingTime()
    {
        var m = new RunMetrics("widget", 2, 0, "tiny-test", new EvaluationMetrics(1, 1, 1, 0.9617745008419664, 0.866003668600228), 0, 0.2442664);
        string nl = Environment.NewLine;
        string expected = string.Join(nl,
            "{", "  \"category\": \"widget\",", "  \"shots\": 2,", "  \"seed\": 0,", "  \"backbone\": \"tiny-test\",",
            "  \"image_auroc\": 100,", "  \"image_aupr\": 100,", "  \"image_f1_max\": 100,",
            "  \"pixel_auroc\": " + (0.9617745008419664 * 100).ToString("R", System.Globalization.CultureInfo.InvariantCulture) + ",",
            "  \"pixel_aupro\": " + (0.866003668600228 * 100).ToString("R", System.Globalization.CultureInfo.InvariantCulture) + ",",
            "  \"train_seconds\": 0,", "  \"test_seconds\": 0.2442664", "}") + "\n";
        Assert.Equal(expected, MetricsJson.Serialize(m));

        string unknown = MetricsJson.Serialize(m with { TrainSeconds = double.NaN, Metrics = m.Metrics with { PixelAupro = double.NaN } });
        Assert.DoesNotContain("train_seconds", unknown);
        Assert.Contains("\"pixel_aupro\": null", unknown);
    }

    /// <summary>run's resume reads metrics.json files written by earlier versions (train_seconds present, metrics ×100).</summary>
    [Fact]
    public void MetricsJson_ReadsOldFilesBackAsFractions()
    {
        const string old = "{\n  \"category\": \"bottle\",\n  \"shots\": 1,\n  \"seed\": 3,\n  \"backbone\": \"ViT-B-16-plus-240\",\n"
            + "  \"image_auroc\": 98.5,\n  \"image_aupr\": 99.25,\n  \"image_f1_max\": 97,\n  \"pixel_auroc\": null,\n  \"pixel_aupro\": null,\n"
            + "  \"train_seconds\": 0,\n  \"test_seconds\": 4.5\n}\n";
        RunMetrics r = MetricsJson.Parse(old);
        Assert.Equal(("bottle", 1, 3, "ViT-B-16-plus-240"), (r.Category, r.Shots, r.Seed, r.Backbone));
        Assert.Equal(0.985, r.Metrics.ImageAuroc, 12);
        Assert.Equal(0.9925, r.Metrics.ImageAupr, 12);
        Assert.Equal(0.97, r.Metrics.ImageF1Max, 12);
        Assert.True(double.IsNaN(r.Metrics.PixelAuroc) && double.IsNaN(r.Metrics.PixelAupro));
        Assert.Equal((0.0, 4.5), (r.TrainSeconds, r.TestSeconds));

        RunMetrics noTrain = MetricsJson.Parse(old.Replace("  \"train_seconds\": 0,\n", "", StringComparison.Ordinal));
        Assert.True(double.IsNaN(noTrain.TrainSeconds));
        Assert.Throws<FormatException>(() => MetricsJson.Parse("[1]"));
        Assert.Throws<FormatException>(() => MetricsJson.Parse(old.Replace("\"shots\": 1", "\"shots\": \"one\"", StringComparison.Ordinal)));
    }

    [Fact]
    public void PopulationStd()
    {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, Σ(x−5)² = 32, /8 = 4 → std 2 (ddof = 0; ddof = 1 would give 2.138).
        Assert.Equal(2.0, Stats.PopulationStd([2, 4, 4, 4, 5, 5, 7, 9]), 12);
        Assert.Equal(5.0, Stats.Mean([2, 4, 4, 4, 5, 5, 7, 9]), 12);
        Assert.Equal(0.0, Stats.PopulationStd([3]));
        Assert.Equal(1.0, Stats.Mean([1, double.NaN]));
        Assert.True(double.IsNaN(Stats.Mean([])));
    }

    [Fact]
    public void ResultsTableMeanStdAndMeanRow()
    {
        RunMetrics[] runs =
        [
            // bottle 1-shot: 90, 92, 94 → mean 92, std sqrt((4+0+4)/3) = 1.63299
            Run("bottle", 1, 0, 0.90), Run("bottle", 1, 1, 0.92), Run("bottle", 1, 2, 0.94),
            // cable 1-shot: 80, 80, 86 → mean 82, std sqrt((4+4+16)/3) = 2.82843
            Run("cable", 1, 0, 0.80), Run("cable", 1, 1, 0.80), Run("cable", 1, 2, 0.86),
            // 2-shot only for bottle, one seed.
            Run("bottle", 2, 0, 0.955),
        ];
        ResultsTable.Table t = ResultsTable.Build(runs, ResultMetric.ImageAuroc);
        Assert.Equal(["bottle", "cable"], t.Categories);
        Assert.Equal([1, 2], t.Shots);
        Assert.Equal(92, t[0, 0].Mean, 9);
        Assert.Equal(Math.Sqrt(8.0 / 3), t[0, 0].Std, 9);
        Assert.Equal(82, t[1, 0].Mean, 9);
        Assert.Equal(Math.Sqrt(8.0), t[1, 0].Std, 9);

        // Mean row: per-seed category means 85, 86, 90 → mean 87, std sqrt((4+1+9)/3) = 2.16025.
        Assert.Equal(87, t[2, 0].Mean, 9);
        Assert.Equal(Math.Sqrt(14.0 / 3), t[2, 0].Std, 9);
        Assert.Equal(3, t[2, 0].Seeds);
        Assert.Equal(0, t[1, 1].Seeds);

        string md = ResultsTable.Markdown(runs, [ResultMetric.ImageAuroc, ResultMetric.PixelAuroc]);
        Assert.Equal(
            "### Image AUROC\n\n"
            + "| category | 1-shot | 2-shot |\n"
            + "|---|---:|---:|\n"
            + "| bottle | 92.0 ± 1.6 | 95.5 |\n"
            + "| cable | 82.0 ± 2.8 | – |\n"
            + "| **mean** | 87.0 ± 2.2 | 95.5 |\n"
            + "\n### Pixel AUROC\n\n"
            + "| category | 1-shot | 2-shot |\n"
            + "|---|---:|---:|\n"
            + "| bottle | – | – |\n"
            + "| cable | – | – |\n"
            + "| **mean** | – | – |\n",
            md);

        string[] csv = ResultsTable.Csv(runs, [ResultMetric.ImageAuroc]).Split("\r\n");
        Assert.Equal("metric,category,k1_mean,k1_std,k1_seeds,k2_mean,k2_std,k2_seeds", csv[0]);
        Assert.StartsWith("image_auroc,cable,82,", csv[2]);
        Assert.EndsWith(",3,,,0", csv[2]);
        Assert.StartsWith("image_auroc,mean,87,", csv[3]);
    }
}
