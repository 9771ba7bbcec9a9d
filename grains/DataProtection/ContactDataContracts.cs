using Kefu.Contracts.Events;

namespace Kefu.Grains.DataProtection;

/// <summary>
/// A piece of a contact's export zip, streamed from the silo to the gateway: a non-null <see cref="Path"/> starts a new
/// file (relative, forward slashes); <see cref="Data"/> is the next bytes of the current file (at most 64 KiB).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ExportChunk(
    [property: Id(0)] string? Path,
    [property: Id(1)] byte[] Data);

/// <summary>
/// Builds a contact's export (docs/data-protection.md) by calling every <see cref="IPersonalDataHolder"/> on a silo.
/// Key: the tenant. A stateless worker: exports run side by side.
/// </summary>
public interface IContactExportGrain : IGrainWithStringKey
{
    /// <summary>The export's files in order, as chunks; nothing when the contact does not exist.</summary>
    IAsyncEnumerable<ExportChunk> Export(string contactId, CancellationToken cancellationToken = default);
}

/// <summary>Where an erasure stands (<c>GET /api/v1/contacts/{id}/erasure</c>).</summary>
[GenerateSerializer, Immutable]
public sealed record ErasureStatus(
    [property: Id(0)] string ContactId,
    [property: Id(1)] bool Completed,
    [property: Id(2)] DateTimeOffset RequestedAt,
    [property: Id(3)] DateTimeOffset? CompletedAt,
    [property: Id(4)] Dictionary<string, long> Erased,
    [property: Id(5)] string[] Pending,
    [property: Id(6)] int Attempts);

/// <summary>
/// One contact's erasure: idempotent and resumable. Key: <c>Tenancy.Key(tenant, contactId)</c>. It records whom to erase
/// (the contact's visitors and conversations) before it erases anything, then calls every holder until each has
/// succeeded once (a reminder retries those that failed), then writes the <c>contact.erased</c> audit event.
/// </summary>
public interface IContactErasureGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts (or resumes) the erasure and works on it for at most <paramref name="wait"/>; null when neither the contact
    /// nor an erasure of it exists. A completed erasure answers its status again and does nothing.
    /// </summary>
    Task<ErasureStatus?> Erase(Causation causation, TimeSpan wait);

    /// <summary>The erasure's status; null when none was asked for.</summary>
    Task<ErasureStatus?> GetStatus();
}
