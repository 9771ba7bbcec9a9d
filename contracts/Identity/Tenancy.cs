namespace Kefu.Contracts.Identity;

/// <summary>Grain keys always carry the tenant: "{tenant}/{id}".</summary>
public static class Tenancy
{
    public const string DefaultTenant = "default";
    public const string DefaultInbox = "default";

    /// <summary>Tenant, inbox, agent and visitor names: lower-case letters, digits, '-', '_' and '.'; 1-64 chars.</summary>
    public static bool IsValidName(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 64)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_' or '.'))
            {
                return false;
            }
        }

        return value[0] is not ('.' or '-');
    }

    public static string Key(string tenant, string id) => string.Concat(tenant, "/", id);

    public static (string Tenant, string Id) Split(string key)
    {
        var slash = key.IndexOf('/');
        if (slash <= 0 || slash == key.Length - 1)
        {
            throw new ArgumentException($"Grain key '{key}' is not of the form tenant/id.", nameof(key));
        }

        return (key[..slash], key[(slash + 1)..]);
    }
}
