using Kefu.Grains.Streaming.Kafka;

namespace Kefu.Grains.Tests.Streaming;

/// <summary>The commit rule of a partition: only past the longest run of settled offsets.</summary>
public sealed class KafkaOffsetTrackerTests
{
    [Fact]
    public void NothingReadNothingToCommit()
    {
        var tracker = new KafkaOffsetTracker();
        Assert.Null(tracker.Committable());
    }

    [Fact]
    public void AnUnsettledOffsetHoldsTheCommitBackWhateverFollowsIt()
    {
        var tracker = new KafkaOffsetTracker();
        for (var offset = 10; offset < 15; offset++)
        {
            tracker.Read(offset);
        }

        Assert.Equal(10, tracker.Committable()); // nothing delivered: the next reader starts at 10 again

        tracker.Settle(10);
        tracker.Settle(11);
        tracker.Settle(13);
        tracker.Settle(14);
        Assert.Equal(12, tracker.Committable());
        tracker.Committed(12);
        Assert.Null(tracker.Committable());

        tracker.Settle(12);
        Assert.Equal(15, tracker.Committable());
    }

    [Fact]
    public void SkippedRecordsAndGapsDoNotHoldTheCommitBack()
    {
        var tracker = new KafkaOffsetTracker();
        tracker.Read(3);
        tracker.Skipped(4);
        tracker.Read(7); // offsets 5 and 6 do not exist (a transaction marker, compaction)
        tracker.Settle(3);
        Assert.Equal(7, tracker.Committable());
        tracker.Settle(7);
        Assert.Equal(8, tracker.Committable());
    }

    [Fact]
    public void SettlingAnOffsetNeverReadChangesNothing()
    {
        var tracker = new KafkaOffsetTracker();
        tracker.Read(0);
        tracker.Settle(5);
        Assert.Equal(0, tracker.Committable());
        tracker.Committed(0);
        Assert.Null(tracker.Committable());
    }
}
