using System.Collections.Frozen;

namespace Kefu.Gateway.Auth;

/// <summary>
/// What NIST SP 800-63B asks of chosen passwords: long enough, and not one an attacker tries first: not on a list of
/// the most common ones, not the user name, not blank or one repeated character. No composition rules.
/// </summary>
public static class PasswordPolicy
{
    public const int MinLength = 8;
    public const int MaxLength = 256;

    /// <summary>The most common leaked passwords of at least eight characters (lower-case; compared case-insensitively).</summary>
    private static readonly FrozenSet<string> Common = new[]
    {
        "12345678", "123456789", "1234567890", "12345678910", "123123123", "987654321", "87654321", "11111111",
        "00000000", "12341234", "11223344", "12344321", "123456123", "1234512345", "147258369", "159753456",
        "password", "password1", "password12", "password123", "password1234", "password!", "passw0rd", "p@ssw0rd",
        "p@ssword", "pa55word", "passpass", "mypassword", "newpassword", "changeme", "changeme1", "letmein1",
        "letmein123", "welcome1", "welcome123", "welcome!", "iloveyou", "iloveyou1", "qwertyuiop", "qwerty123",
        "qwerty12", "qwertyui", "qwer1234", "1234qwer", "1q2w3e4r", "1q2w3e4r5t", "1qaz2wsx", "zaq12wsx",
        "q1w2e3r4", "q1w2e3r4t5", "qweasdzxc", "123qweasd", "asdfghjkl", "asdfasdf", "asdf1234", "abc12345",
        "abcd1234", "abcdefgh", "admin123", "admin1234", "administrator", "root1234", "secret123", "sunshine",
        "princess", "football", "baseball", "superman", "batman123", "trustno1", "starwars", "computer",
        "internet", "whatever", "jennifer", "michael1", "charlie1", "maverick", "mercedes", "samsung1",
        "chocolate", "butterfly", "dragon12", "master12", "monkey12", "shadow12", "basketball", "liverpool",
        "killer12", "freedom1", "football1", "sunshine1", "princess1", "iloveyou2", "lovely12", "hello123",
        "test1234", "testtest", "guest123", "default1", "kefu1234", "customer", "support1", "helpdesk",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Why <paramref name="password"/> is too weak for <paramref name="username"/>, or null when it is fine (length checked apart).</summary>
    public static string? Weakness(string password, string? username)
    {
        if (string.IsNullOrWhiteSpace(password))
        {
            return "The password must not be blank.";
        }

        if (password.All(c => c == password[0]))
        {
            return "The password must not be one repeated character.";
        }

        if (!string.IsNullOrEmpty(username) && password.Contains(username, StringComparison.OrdinalIgnoreCase))
        {
            return "The password must not contain the user name.";
        }

        return Common.Contains(password.Trim()) ? "This password is one of the most common ones; choose another." : null;
    }
}
