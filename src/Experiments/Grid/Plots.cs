using ScottPlot;

namespace Masking.Experiments.Grid;

/// <summary>
/// The report's PNG plots (ScottPlot). Text is drawn with the DejaVu Sans file shipped in fonts/, so plots
/// render the same everywhere and need no installed fonts.
/// </summary>
public static class Plots
{
    private const int Width = 900, Height = 520;
    private static readonly Lazy<string?> FontName = new(RegisterFont);

    private static string? RegisterFont()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "fonts", "DejaVuSans.ttf");
            if (!File.Exists(path)) continue;
            Fonts.AddFontFile("DejaVu Sans", path);
            return "DejaVu Sans";
        }
        return null;
    }

    private static Plot New(string title, string x, string y)
    {
        var plot = new Plot();
        if (FontName.Value is { } font) plot.Font.Set(font);
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        return plot;
    }

    private static void Save(Plot plot, string path)
    {
        // ScottPlot picks the format from the extension, so the temporary ends in .png too.
        var tmp = AtomicFile.tempFor(path) + ".png";
        plot.SavePng(tmp, Width, Height);
        AtomicFile.commit(tmp, path);
    }

    public static void Lines(string path, string title, string x, string y, IReadOnlyList<(string Name, double[] X, double[] Y)> series)
    {
        var plot = New(title, x, y);
        foreach (var s in series)
        {
            var line = plot.Add.Scatter(s.X, s.Y);
            line.LegendText = s.Name;
        }
        plot.ShowLegend();
        Save(plot, path);
    }

    /// <summary>Lines with a shaded interval around each (the sweep plots: a metric against a knob's value).</summary>
    public static void LinesWithIntervals(string path, string title, string x, string y,
        IReadOnlyList<(string Name, double[] X, double[] Y, double[] Low, double[] High)> series)
    {
        var plot = New(title, x, y);
        foreach (var s in series)
        {
            var line = plot.Add.Scatter(s.X, s.Y);
            line.LegendText = s.Name;
            var band = plot.Add.FillY(s.X, s.Low, s.High);
            band.FillColor = line.Color.WithAlpha(0.2);
            band.LineWidth = 0;
        }
        plot.ShowLegend();
        Save(plot, path);
    }

    public static void LogLog(string path, string title, IReadOnlyList<(string Name, double[] Counts)> series)
    {
        var plot = New(title, "log10 rank", "log10 count");
        foreach (var s in series.Where(s => s.Counts.Length > 0))
        {
            var xs = Enumerable.Range(1, s.Counts.Length).Select(r => Math.Log10(r)).ToArray();
            var line = plot.Add.Scatter(xs, s.Counts.Select(Math.Log10).ToArray());
            line.LegendText = s.Name;
            line.MarkerSize = 0;
        }
        plot.ShowLegend(Alignment.UpperRight);
        Save(plot, path);
    }

    public static void GroupedBars(string path, string title, IReadOnlyList<string> groups, IReadOnlyList<(string Name, double[] Values)> series, string y)
    {
        var plot = New(title, "", y);
        var width = 0.8 / Math.Max(1, series.Count);
        for (var k = 0; k < series.Count; k++)
        {
            var bars = series[k].Values.Select((v, g) => new Bar { Position = g + (k - (series.Count - 1) / 2.0) * width, Value = v, Size = width * 0.95 }).ToList();
            var added = plot.Add.Bars(bars);
            added.LegendText = series[k].Name;
            var color = plot.Add.GetNextColor();
            foreach (var b in added.Bars) b.FillColor = color;
        }
        plot.Axes.Bottom.SetTicks(groups.Select((_, g) => (double)g).ToArray(), groups.ToArray());
        plot.Axes.Margins(bottom: 0);
        plot.ShowLegend(Alignment.UpperRight);
        Save(plot, path);
    }

    public static void Heatmap(string path, string title, IReadOnlyList<string> rows, IReadOnlyList<string> columns, double[,] values)
    {
        var plot = New(title, "fine-tuned task", "");
        var map = plot.Add.Heatmap(values);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(map);
        for (var i = 0; i < rows.Count; i++)
            for (var j = 0; j < columns.Count; j++)
            {
                var text = plot.Add.Text(double.IsNaN(values[i, j]) ? "–" : values[i, j].ToString("+0.0;-0.0;0.0", System.Globalization.CultureInfo.InvariantCulture), j, rows.Count - 1 - i);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontColor = Colors.White;
            }
        plot.Axes.Bottom.SetTicks(columns.Select((_, j) => (double)j).ToArray(), columns.ToArray());
        plot.Axes.Left.SetTicks(rows.Select((_, i) => (double)(rows.Count - 1 - i)).ToArray(), rows.ToArray());
        Save(plot, path);
    }
}
