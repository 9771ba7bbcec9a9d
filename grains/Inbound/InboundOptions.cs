namespace Kefu.Grains.Inbound;

/// <summary>Configuration section <c>Kefu:Inbound</c> (INTEGRATION.md §3, §4).</summary>
public sealed class InboundOptions
{
    public const string Section = "Kefu:Inbound";

    /// <summary>
    /// How long a sender's event id is remembered (its body hash and the original answer): the same id again within this
    /// window is answered from the record and causes nothing new. The contract asks for at least 24 hours.
    /// </summary>
    public TimeSpan DedupRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often expired deduplication records are deleted (<see cref="InboundRetention"/>).</summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long an <c>Idempotency-Key</c>'s answer is kept for replay.</summary>
    public TimeSpan IdempotencyRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How long a request holds its <c>Idempotency-Key</c> before a concurrent retry may run it again: longer than any
    /// request takes, short enough that a gateway that died mid-request does not block the key for long.
    /// </summary>
    public TimeSpan IdempotencyLease { get; set; } = TimeSpan.FromSeconds(30);
}
