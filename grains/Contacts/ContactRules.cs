using System.Net.Mail;
using System.Text;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Contacts;

/// <summary>
/// The bounds of a contact (issue #14). Business systems write contacts with keys and widgets seed them, so every
/// contact's size is bounded: a contact is one grain state row, read whole by every panel that shows it.
/// </summary>
public static class ContactRules
{
    /// <summary>The problem code of attributes out of bounds (the same as for visitors).</summary>
    public const string InvalidAttributes = "invalid_attributes";

    public const int MaxNameLength = 128;
    public const int MaxEmailLength = 254;
    public const int MaxAttributes = 50;
    public const int MaxAttributeKeyLength = 64;
    public const int MaxAttributeValueLength = 1_024;

    /// <summary>All keys and values together, in UTF-8 bytes.</summary>
    public const int MaxAttributesBytes = 16_384;

    /// <summary>What is wrong with <paramref name="patch"/> on its own (a removal needs no checks), or null.</summary>
    public static KefuError? Check(ContactPatch patch)
    {
        if (patch.Name is { } name && (name.Trim().Length > MaxNameLength || name.Any(char.IsControl)))
        {
            return KefuError.Invalid($"name must be at most {MaxNameLength} characters, without control characters.");
        }

        if (patch.Email is { } email && email.Trim().Length > 0 && !IsEmail(email.Trim()))
        {
            return KefuError.Invalid($"email must be an address of at most {MaxEmailLength} characters (or empty to clear it).");
        }

        foreach (var (key, value) in patch.Attributes ?? [])
        {
            if (key.Length is < 1 or > MaxAttributeKeyLength || key.Any(char.IsControl))
            {
                return new KefuError(InvalidAttributes, $"attribute keys must be 1 to {MaxAttributeKeyLength} characters, without control characters.");
            }

            if (value is { Length: > MaxAttributeValueLength })
            {
                return new KefuError(InvalidAttributes, $"attribute values must be strings of at most {MaxAttributeValueLength} characters (null removes one).");
            }
        }

        return null;
    }

    /// <summary>What is wrong with the attributes a contact would have after a patch (their number and total size), or null.</summary>
    public static KefuError? CheckTotal(IReadOnlyDictionary<string, string> attributes)
    {
        if (attributes.Count > MaxAttributes)
        {
            return new KefuError(InvalidAttributes, $"a contact has at most {MaxAttributes} attributes.");
        }

        var bytes = attributes.Sum(p => Encoding.UTF8.GetByteCount(p.Key) + Encoding.UTF8.GetByteCount(p.Value));
        return bytes > MaxAttributesBytes
            ? new KefuError(InvalidAttributes, $"a contact's attributes total at most {MaxAttributesBytes} bytes (UTF-8, keys and values).")
            : null;
    }

    public static bool IsEmail(string value) =>
        value.Length is >= 3 and <= MaxEmailLength
        && MailAddress.TryCreate(value, out var address)
        && address.Address == value;
}
