using System.Security.Cryptography;

namespace Kefu.Grains.Tenants;

/// <summary>Public inbox keys: "pk_" and 24 random URL-safe characters (144 bits), the widget's only credential.</summary>
public static class InboxKeys
{
    public const string Prefix = "pk_";
    public const int RandomLength = 24;

    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    public static string New() => Prefix + RandomNumberGenerator.GetString(Alphabet, RandomLength);

    /// <summary>Whether <paramref name="key"/> could be a key at all (checked before any grain is touched).</summary>
    public static bool IsWellFormed(string? key)
    {
        if (key is null || key.Length != Prefix.Length + RandomLength || !key.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in key.AsSpan(Prefix.Length))
        {
            if (!(c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
