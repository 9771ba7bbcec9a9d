using System.Buffers.Binary;

namespace Kefu.Gateway.Api.Avatars;

/// <summary>
/// Reads an image's type and pixel size from its own header bytes (PNG IHDR, JPEG start-of-frame, WebP VP8/VP8L/VP8X),
/// never from the name or the declared type, so a script or an HTML page renamed "me.png" is refused.
/// </summary>
public static class ImageProbe
{
    public readonly record struct Image(string ContentType, int Width, int Height);

    /// <summary>The picture's type and size, or null when the bytes are not a PNG, JPEG or WebP image we can read.</summary>
    public static Image? Read(ReadOnlySpan<byte> bytes) =>
        Png(bytes) ?? Jpeg(bytes) ?? WebP(bytes);

    private static Image? Png(ReadOnlySpan<byte> b)
    {
        // Signature, then the first chunk must be IHDR: length 13, width and height big-endian.
        if (b.Length < 24 || !b.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) || !b[12..16].SequenceEqual("IHDR"u8))
        {
            return null;
        }

        return Sized("image/png", BinaryPrimitives.ReadUInt32BigEndian(b[16..]), BinaryPrimitives.ReadUInt32BigEndian(b[20..]));
    }

    private static Image? Jpeg(ReadOnlySpan<byte> b)
    {
        if (b.Length < 4 || b[0] != 0xFF || b[1] != 0xD8)
        {
            return null;
        }

        // Walk the segments to the first start-of-frame marker (C0-CF except DHT C4, JPG C8, DAC CC).
        var at = 2;
        while (at + 4 <= b.Length)
        {
            if (b[at] != 0xFF)
            {
                return null;
            }

            var marker = b[at + 1];
            if (marker == 0xFF)
            {
                at++; // fill byte
                continue;
            }

            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                at += 2; // markers without a length
                continue;
            }

            if (marker is 0xD9 or 0xDA)
            {
                return null; // end of image, or the scan, before any frame header
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(b[(at + 2)..]);
            if (length < 2)
            {
                return null;
            }

            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                return at + 9 <= b.Length
                    ? Sized("image/jpeg", BinaryPrimitives.ReadUInt16BigEndian(b[(at + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(b[(at + 5)..]))
                    : null;
            }

            at += 2 + length;
        }

        return null;
    }

    private static Image? WebP(ReadOnlySpan<byte> b)
    {
        if (b.Length < 30 || !b.StartsWith("RIFF"u8) || !b[8..12].SequenceEqual("WEBP"u8))
        {
            return null;
        }

        var chunk = b[12..16];
        if (chunk.SequenceEqual("VP8 "u8))
        {
            // Lossy: a 3-byte frame tag, the start code 9D 01 2A, then 14-bit width and height.
            return b[23] == 0x9D && b[24] == 0x01 && b[25] == 0x2A
                ? Sized("image/webp", BinaryPrimitives.ReadUInt16LittleEndian(b[26..]) & 0x3FFFu, BinaryPrimitives.ReadUInt16LittleEndian(b[28..]) & 0x3FFFu)
                : null;
        }

        if (chunk.SequenceEqual("VP8L"u8))
        {
            // Lossless: the signature 0x2F, then width-1 and height-1 in 14 bits each.
            if (b[20] != 0x2F)
            {
                return null;
            }

            var bits = BinaryPrimitives.ReadUInt32LittleEndian(b[21..]);
            return Sized("image/webp", (bits & 0x3FFFu) + 1, ((bits >> 14) & 0x3FFFu) + 1);
        }

        if (chunk.SequenceEqual("VP8X"u8))
        {
            // Extended: flags (4 bytes), then canvas width-1 and height-1 in 24 bits each.
            return Sized("image/webp", (b[24] | (uint)b[25] << 8 | (uint)b[26] << 16) + 1, (b[27] | (uint)b[28] << 8 | (uint)b[29] << 16) + 1);
        }

        return null;
    }

    private static Image? Sized(string type, uint width, uint height) =>
        width is 0 or > int.MaxValue || height is 0 or > int.MaxValue ? null : new Image(type, (int)width, (int)height);
}
