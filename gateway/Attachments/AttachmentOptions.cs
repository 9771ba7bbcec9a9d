namespace Kefu.Gateway.Attachments;

/// <summary><c>Kefu:Attachments:*</c>: limits and storage of uploaded images and files.</summary>
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

    /// <summary>Directory of the disk store; default <c>{temp}/kefu/attachments</c>. Share it between gateways in a cluster.</summary>
    public string? Path { get; set; }

    public static readonly string[] DefaultAllowedTypes =
        ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"];

    public IReadOnlyCollection<string> EffectiveAllowedTypes =>
        AllowedTypes is { Length: > 0 } configured
            ? [.. configured.Select(t => t.Trim().ToLowerInvariant()).Where(t => t.Length > 0)]
            : DefaultAllowedTypes;

    public string EffectivePath => string.IsNullOrWhiteSpace(Path)
        ? System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kefu", "attachments")
        : Path;
}
