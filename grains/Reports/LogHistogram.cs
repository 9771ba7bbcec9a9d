namespace Kefu.Grains.Reports;

/// <summary>
/// Log-scale buckets for durations in milliseconds, each 5 % wider than the one before: a percentile read from the
/// bucket counts is within ±2.5 % of the exact one, and a year fits in under 500 buckets, so a percentile over a million
/// conversations is a GROUP BY over a few hundred rows instead of a sort of a million values. Bucket 0 holds 0 ms.
/// </summary>
public static class LogHistogram
{
    public const double Ratio = 1.05;

    private static readonly double LogRatio = Math.Log(Ratio);

    public static int Bucket(long milliseconds) =>
        milliseconds <= 0 ? 0 : 1 + (int)Math.Floor(Math.Log(milliseconds) / LogRatio);

    /// <summary>The bucket's geometric middle, in seconds (0 for bucket 0).</summary>
    public static double Seconds(int bucket) =>
        bucket <= 0 ? 0 : Math.Round(Math.Pow(Ratio, bucket - 1) * Math.Sqrt(Ratio) / 1000, 3);

    /// <summary>The <paramref name="quantile"/> (0–1) of the counted values: the bucket holding the value of that rank.</summary>
    public static double? Percentile(IReadOnlyList<(int Bucket, long Count)> counts, double quantile)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var total = counts.Sum(c => c.Count);
        if (total == 0)
        {
            return null;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(quantile * total));
        long seen = 0;
        foreach (var (bucket, count) in counts.OrderBy(c => c.Bucket))
        {
            seen += count;
            if (seen >= rank)
            {
                return Seconds(bucket);
            }
        }

        return Seconds(counts.Max(c => c.Bucket));
    }
}
