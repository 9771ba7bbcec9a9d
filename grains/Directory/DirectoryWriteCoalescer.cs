namespace Kefu.Grains.Directory;

/// <summary>
/// Decides when a conversation's per-message changes (preview, last activity, unread) reach its directory row: at
/// most one write per <c>interval</c>, never on the send path. In cluster mode a directory write is a MySQL
/// statement, and a busy conversation sends many messages a second; the list needs the newest state within about a
/// second, not every step (docs/architecture.md, "The conversation directory").
/// </summary>
public sealed class DirectoryWriteCoalescer(TimeSpan interval)
{
    private DateTimeOffset _lastWrite = DateTimeOffset.MinValue;

    /// <summary>Something the directory shows changed and is not written yet.</summary>
    public bool Dirty { get; private set; }

    /// <summary>A write is scheduled (a timer will call back).</summary>
    public bool Scheduled { get; private set; }

    /// <summary>
    /// A message changed what the directory shows. Returns after how long to write, or null when a write is already
    /// scheduled (it will carry this change too).
    /// </summary>
    public TimeSpan? Changed(DateTimeOffset now)
    {
        Dirty = true;
        if (Scheduled)
        {
            return null;
        }

        Scheduled = true;
        var wait = _lastWrite == DateTimeOffset.MinValue ? TimeSpan.Zero : _lastWrite + interval - now;
        return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
    }

    /// <summary>The scheduled time came: whether there is anything to write.</summary>
    public bool Due()
    {
        Scheduled = false;
        return Dirty;
    }

    /// <summary>The whole summary was written (by the coalesced write or by a summary change).</summary>
    public void Written(DateTimeOffset now)
    {
        _lastWrite = now;
        Dirty = false;
    }
}
