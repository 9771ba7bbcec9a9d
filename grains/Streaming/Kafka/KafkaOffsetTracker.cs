namespace Kefu.Grains.Streaming.Kafka;

/// <summary>
/// Which offsets of one partition are settled — delivered by Orleans, skipped as unreadable, or given up after
/// delivery failed — and so the offset that may be committed: the one after the longest settled run. An offset read
/// but not settled holds the commit back however many later ones are settled, so a restart never skips it (at least
/// once: what follows it may come again). Thread-safe: the consume loop reads, Orleans settles.
/// </summary>
internal sealed class KafkaOffsetTracker
{
    private readonly Lock _lock = new();
    private readonly SortedSet<long> _unsettled = [];
    private long _highestRead = -1;
    private long _committed = -1;

    /// <summary>
    /// A record at <paramref name="offset"/> (or the run of records <paramref name="offset"/> … <paramref name="lastOffset"/>,
    /// handed on as one batch and settled by its first offset) was read; it is unsettled until told otherwise.
    /// </summary>
    public void Read(long offset, long lastOffset = -1)
    {
        lock (_lock)
        {
            if (offset > _highestRead)
            {
                _unsettled.Add(offset);
                _highestRead = Math.Max(offset, lastOffset);
            }
        }
    }

    /// <summary>A record read and settled at once (one that could not be decoded).</summary>
    public void Skipped(long offset)
    {
        lock (_lock)
        {
            _highestRead = Math.Max(_highestRead, offset);
        }
    }

    /// <summary>Orleans is done with this record. Offsets never read (or already settled) are ignored.</summary>
    public void Settle(long offset)
    {
        lock (_lock)
        {
            _unsettled.Remove(offset);
        }
    }

    /// <summary>The offset to commit (the next record to read after a restart), if it moved since the last commit.</summary>
    public long? Committable()
    {
        lock (_lock)
        {
            if (_highestRead < 0)
            {
                return null;
            }

            var next = _unsettled.Count > 0 ? _unsettled.Min : _highestRead + 1;
            return next > _committed ? next : null;
        }
    }

    /// <summary>The broker has <paramref name="offset"/> as the group's position.</summary>
    public void Committed(long offset)
    {
        lock (_lock)
        {
            _committed = Math.Max(_committed, offset);
        }
    }
}
