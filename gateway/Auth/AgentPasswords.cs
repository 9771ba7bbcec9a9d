using Microsoft.AspNetCore.Identity;

namespace Kefu.Gateway.Auth;

/// <summary>ASP.NET Core Identity's PBKDF2 hasher; hashing runs in the gateway, never inside a grain turn.</summary>
public sealed class AgentPasswords
{
    private static readonly AgentAccount Account = new();
    private readonly PasswordHasher<AgentAccount> _hasher = new();
    private readonly Lazy<string> _decoy;

    public AgentPasswords() => _decoy = new Lazy<string>(() => Hash(Guid.NewGuid().ToString()));

    public string Hash(string password) => _hasher.HashPassword(Account, password);

    public PasswordVerificationResult Verify(string hash, string password) => _hasher.VerifyHashedPassword(Account, hash, password);

    /// <summary>Spend the same time for an unknown user as for a wrong password.</summary>
    public void VerifyDecoy(string password) => _hasher.VerifyHashedPassword(Account, _decoy.Value, password);

    public sealed class AgentAccount;
}
