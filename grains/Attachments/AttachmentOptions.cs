namespace Kefu.Grains.Attachments;

/// <summary>
/// <c>Kefu:Attachments:*</c>: limits, quotas, retention and storage of uploaded images and files. Gateways (uploads,
/// downloads) and silos (the retention job) read the same section, so set it the same on both in cluster mode.
/// </summary>
public sealed class AttachmentOptions
{
    public const string Section = "Kefu:Attachments";

    /// <summary>Largest accepted file, in bytes (default 10 MiB); larger → 413 <c>payload_too_large</c>.</summary>
    public long MaxBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>
    /// Accepted content types (declared by the client, and checked against the file's first bytes for images and
    /// PDF); others → 415 <c>unsupported_media_type</c>. Setting the key replaces the whole list.
    /// </summary>
    public string[]? AllowedTypes { get; set; }

    /// <summary>
    /// Directory of the disk store; default <c>{content root}/data/attachments</c> (a relative path is taken from the
    /// content root). Never the temp directory: temp is cleaned by the system and often a small RAM disk. In cluster
    /// mode every gateway and every silo must see the same shared directory here.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>Stored bytes one conversation may hold (default 100 MiB; 0 = no limit); beyond → 413 <c>quota_exceeded</c>.</summary>
    public long MaxBytesPerConversation { get; set; } = 100L * 1024 * 1024;

    /// <summary>Stored bytes one tenant may hold (default 10 GiB; 0 = no limit); beyond → 413 <c>quota_exceeded</c>.</summary>
    public long MaxBytesPerTenant { get; set; } = 10L * 1024 * 1024 * 1024;

    /// <summary>
    /// Free bytes the storage directory's disk must keep after an upload (default 512 MiB); below → 507
    /// <c>insufficient_storage</c>. The message store and logs often share that disk.
    /// </summary>
    public long MinFreeBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>
    /// Attachments older than this many days are deleted by the retention job (default 90; 0 = keep forever), unless
    /// the tenant's own retention policy (<c>/api/v1/retention</c>) says otherwise.
    /// </summary>
    public int RetentionDays { get; set; } = 90;

    /// <summary>How often the retention job runs (an Orleans reminder: at least one minute; default one hour).</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Lifetime of a signed download link (<c>POST /api/v1/attachments/{id}/link</c>); default 5 minutes, at most
    /// one hour.
    /// </summary>
    public TimeSpan LinkLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// HMAC key (at least 32 bytes) of signed links; default derived from <c>Kefu:Auth:SigningKey</c>, so gateways
    /// that share that key accept each other's links.
    /// </summary>
    public string? LinkKey { get; set; }

    /// <summary>
    /// Where attachments are kept: <c>disk</c> (the directory <see cref="Path"/>), <c>mysql</c> (metadata and bytes in the
    /// cluster's database, deploy/mysql/015) or <c>s3</c> (metadata in MySQL, bytes in the bucket of <see cref="S3"/>).
    /// Default: <c>mysql</c> in cluster mode (a connection string is set), where gateways and silos share no disk;
    /// <c>disk</c> when embedded. Set it the same on every gateway and silo.
    /// </summary>
    public string? Store { get; set; }

    /// <summary><c>mysql</c> store: bytes per chunk row (default 1 MiB, 64 KiB..8 MiB), well under <c>max_allowed_packet</c>.</summary>
    public int MySqlChunkBytes { get; set; } = 1024 * 1024;

    /// <summary>The bucket of the <c>s3</c> store.</summary>
    public S3AttachmentOptions S3 { get; set; } = new();

    public static readonly string[] DefaultAllowedTypes =
        ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"];

    public IReadOnlyCollection<string> EffectiveAllowedTypes =>
        AllowedTypes is { Length: > 0 } configured
            ? [.. configured.Select(t => t.Trim().ToLowerInvariant()).Where(t => t.Length > 0)]
            : DefaultAllowedTypes;

    /// <summary>The storage directory, absolute: <see cref="Path"/> taken from <paramref name="contentRoot"/>.</summary>
    public string EffectivePath(string contentRoot) =>
        System.IO.Path.GetFullPath(string.IsNullOrWhiteSpace(Path) ? System.IO.Path.Combine("data", "attachments") : Path, contentRoot);
}
