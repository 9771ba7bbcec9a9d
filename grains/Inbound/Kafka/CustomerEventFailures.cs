using Kefu.Contracts.Messages;
using Kefu.Grains.Streaming.Kafka;

namespace Kefu.Grains.Inbound.Kafka;

/// <summary>
/// What becomes of a record whose attempts all failed (tracked per record of the batch being applied): a refusal — a rule said no (not_found, idempotency_mismatch, …) — is dead-lettered; a transient failure
/// — an exception, or <c>unavailable</c> — is delivered again until it has failed for
/// <see cref="CustomerEventsOptions.TransientRetryFor"/>, and only then dead-lettered, so an outage of the database
/// holds the partition instead of emptying it into the dead-letter topic.
/// </summary>
public sealed class CustomerEventFailures(CustomerEventsOptions options)
{
    private readonly Dictionary<(string Topic, int Partition, long Offset), (DateTimeOffset Since, int Attempts)> _failing = [];

    /// <summary>A refusal that is really "try again later".</summary>
    public static bool IsTransient(KefuError error) => error.Code == ErrorCodes.Unavailable;

    /// <summary>The record was applied: its failures are over.</summary>
    public void Succeeded(KafkaRawRecord record) => _failing.Remove(KeyOf(record));

    /// <summary>
    /// <paramref name="attempts"/> more attempts at <paramref name="record"/> failed, the last with <paramref name="refused"/>
    /// (a rule's answer) or <paramref name="failure"/> (an exception). Returns the error to dead-letter it with and the
    /// attempts in all, or a null error: deliver it again later.
    /// </summary>
    public (KefuError? DeadLetter, int Attempts) Failed(KafkaRawRecord record, KefuError? refused, Exception? failure, int attempts, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(record);
        var key = KeyOf(record);
        var known = _failing.TryGetValue(key, out var earlier);
        var total = earlier.Attempts + attempts;
        if (refused is not null && !IsTransient(refused))
        {
            _failing.Remove(key);
            return (refused, total);
        }

        var since = known ? earlier.Since : now;
        if (now - since >= options.TransientRetryFor)
        {
            _failing.Remove(key);
            var cause = failure is not null ? $"{failure.GetType().Name}: {failure.Message}" : refused?.Message;
            return (new KefuError(ErrorCodes.Unavailable, $"Still failing after {now - since:g}: {cause}"), total);
        }

        _failing[key] = (since, total);
        return (null, total);
    }

    private static (string, int, long) KeyOf(KafkaRawRecord record) => (record.Topic, record.Partition, record.Offset);
}
