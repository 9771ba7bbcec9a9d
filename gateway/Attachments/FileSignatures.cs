namespace Kefu.Gateway.Attachments;

/// <summary>
/// Checks that a file's first bytes match its declared type, so an executable renamed <c>.png</c> is refused. Types
/// with a signature (images, PDF) must carry it; <c>text/plain</c> must not contain NUL bytes; other configured types
/// are taken as declared.
/// </summary>
public static class FileSignatures
{
    /// <summary>Bytes to read from the start of a file for <see cref="Matches"/>.</summary>
    public const int HeadLength = 8192;

    public static bool Matches(string contentType, ReadOnlySpan<byte> head) => contentType switch
    {
        "image/png" => head.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
        "image/jpeg" => head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]),
        "image/gif" => head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8),
        "image/webp" => head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8),
        "application/pdf" => head.StartsWith("%PDF-"u8),
        "text/plain" => !head.Contains((byte)0),
        _ when contentType.StartsWith("image/", StringComparison.Ordinal) => false, // an image type we cannot check
        _ => true,
    };
}
