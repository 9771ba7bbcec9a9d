namespace Kefu.Grains.Retention;

/// <summary><c>Kefu:Retention:*</c>: how the retention job deletes (the policies themselves are per tenant, <c>/api/v1/retention</c>).</summary>
public sealed class RetentionOptions
{
    public const string Section = "Kefu:Retention";

    /// <summary>Rows one holder deletes per call (default 500): small, so one statement holds its locks only briefly.</summary>
    public int ChunkSize { get; set; } = 500;

    /// <summary>Pause after a full chunk (default 250 ms), so a large backlog is deleted without crowding out writes.</summary>
    public TimeSpan ChunkPause { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>At most this many chunks per holder and tenant in one run (default 2000); the next run goes on.</summary>
    public int MaxChunksPerRun { get; set; } = 2000;
}
