namespace Kefu.Grains.DataProtection;

/// <summary>
/// Whose data an export or an erasure is about (issue #20 item 5): a contact, the visitor identities it chatted as and
/// the conversations it had. Built once by the erasure/export job from the contact and handed to every holder.
/// </summary>
public sealed record PersonalDataScope(
    string Tenant,
    string ContactId,
    IReadOnlyList<string> VisitorIds,
    IReadOnlyList<string> ConversationIds);

/// <summary>Where a holder writes its part of a contact's export (one zip; see the export job).</summary>
public interface IPersonalDataExportWriter
{
    /// <summary>Adds a JSON document at <paramref name="path"/> (relative, forward slashes, e.g. <c>search/index.json</c>).</summary>
    Task WriteJsonAsync<T>(string path, T value, CancellationToken cancellationToken);

    /// <summary>Adds a file's bytes at <paramref name="path"/> (e.g. <c>attachments/{id}/{name}</c>).</summary>
    Task WriteFileAsync(string path, Stream content, CancellationToken cancellationToken);
}

/// <summary>
/// One store that may hold a contact's personal data (messages, attachments, events, the search index, report rows, …).
/// Every holder is registered as <c>IPersonalDataHolder</c> in DI; the export and erasure jobs call all of them, so a
/// store added later only has to register its holder to be covered. Erasure must be idempotent (a retried erasure
/// finds nothing left and succeeds) and must not remove what is not personal (counts, timings, the audit event).
/// </summary>
public interface IPersonalDataHolder
{
    /// <summary>A stable short name (<c>messages</c>, <c>attachments</c>, <c>search</c>, …): the export's folder and the erasure report's key.</summary>
    string Name { get; }

    /// <summary>Writes what this store holds about the scope.</summary>
    Task ExportAsync(PersonalDataScope scope, IPersonalDataExportWriter writer, CancellationToken cancellationToken);

    /// <summary>Removes (or blanks) what this store holds about the scope; returns how many records it changed.</summary>
    Task<long> EraseAsync(PersonalDataScope scope, CancellationToken cancellationToken);
}

/// <summary>
/// How far back a tenant keeps each kind of data (issue #20 item 5); null: kept until the global default
/// (<c>Kefu:Events:Retention</c>, <c>Kefu:Attachments:RetentionDays</c>) or forever for messages.
/// </summary>
public sealed record RetentionCutoffs(
    DateTimeOffset? MessagesBefore,
    DateTimeOffset? AttachmentsBefore,
    DateTimeOffset? EventsBefore);

/// <summary>
/// One store whose rows a tenant's retention policy bounds. The retention reminder calls every registered holder with
/// the tenant's cutoffs; a holder deletes at most <paramref name="limit"/> rows per call (small chunks, so writes are
/// never slowed by a long delete) and returns how many it deleted: the job calls again while a holder returns
/// <paramref name="limit"/>. A derived store (the search index of messages) prunes by its source's cutoff.
/// </summary>
public interface IRetentionHolder
{
    /// <summary>A stable short name (<c>messages</c>, <c>attachments</c>, <c>events</c>, <c>search</c>, …) for logs and status.</summary>
    string Name { get; }

    Task<int> PruneAsync(string tenant, RetentionCutoffs cutoffs, int limit, CancellationToken cancellationToken);
}
