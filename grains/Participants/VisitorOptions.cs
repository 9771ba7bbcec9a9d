using System.Text;

namespace Kefu.Grains.Participants;

/// <summary>
/// Bound from "Kefu:Visitors": what an anonymous caller may store on a visitor, and how long a visitor who never
/// wrote is kept. Anyone can create visitors, so each one's size is bounded and the ones that never chat go away.
/// </summary>
public sealed class VisitorOptions
{
    public const string Section = "Kefu:Visitors";

    public int MaxNameLength { get; set; } = 128;

    public int MaxEmailLength { get; set; } = 254;

    public int MaxAttributes { get; set; } = 20;

    public int MaxAttributeKeyLength { get; set; } = 64;

    public int MaxAttributeValueLength { get; set; } = 256;

    /// <summary>All keys and values together, in UTF-8 bytes.</summary>
    public int MaxAttributesBytes { get; set; } = 4_096;

    /// <summary>A visitor without a conversation and without calls (connections, heartbeats) this long is deleted.</summary>
    public TimeSpan IdleExpiry { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Why the attributes are refused, or null when they are within the bounds.</summary>
    public string? CheckAttributes(IReadOnlyDictionary<string, string>? attributes)
    {
        if (attributes is null)
        {
            return null;
        }

        if (attributes.Count > MaxAttributes)
        {
            return $"at most {MaxAttributes} attributes are allowed.";
        }

        var bytes = 0;
        foreach (var (key, value) in attributes)
        {
            if (key.Length < 1 || key.Length > MaxAttributeKeyLength || key.Any(char.IsControl))
            {
                return $"attribute keys must be 1 to {MaxAttributeKeyLength} characters, without control characters.";
            }

            if (value is null || value.Length > MaxAttributeValueLength)
            {
                return $"attribute values must be strings of at most {MaxAttributeValueLength} characters.";
            }

            bytes += Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(value);
        }

        return bytes > MaxAttributesBytes ? $"attributes must total at most {MaxAttributesBytes} bytes (UTF-8, keys and values)." : null;
    }
}
