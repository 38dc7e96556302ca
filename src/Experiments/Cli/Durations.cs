using System.Globalization;

namespace Masking.Experiments.Cli;

/// <summary>How elapsed and remaining times are shown: <c>mm:ss</c>, with hours in front once there are any.</summary>
public static class Durations
{
    /// <summary>"07:05", "1:02:03", "26:00:00" (a .NET <c>mm\:ss</c> format alone wraps after an hour).</summary>
    public static string Clock(TimeSpan t)
    {
        if (t < TimeSpan.Zero) t = TimeSpan.Zero;
        var hours = (long)t.TotalHours;
        var rest = string.Create(CultureInfo.InvariantCulture, $"{t.Minutes:00}:{t.Seconds:00}");
        return hours > 0 ? string.Create(CultureInfo.InvariantCulture, $"{hours}:{rest}") : rest;
    }
}
