using Microsoft.AspNetCore.Identity;

namespace Kefu.Gateway.Auth;

/// <summary>
/// ASP.NET Core Identity's PBKDF2 hasher; hashing runs in the gateway, never inside a grain turn. Each hash takes a
/// core for tens of milliseconds, so at most <see cref="MaxConcurrent"/> run at once and the rest wait their turn:
/// a burst of logins queues behind each other instead of starving every other request of CPU.
/// </summary>
public sealed class AgentPasswords
{
    private static readonly AgentAccount Account = new();
    private readonly PasswordHasher<AgentAccount> _hasher = new();
    private readonly Lazy<string> _decoy;
    private readonly SemaphoreSlim _gate;
    private int _running;
    private int _peak;

    public AgentPasswords(int? maxConcurrent = null)
    {
        MaxConcurrent = maxConcurrent is > 0 ? maxConcurrent.Value : Math.Max(1, Environment.ProcessorCount / 2);
        _gate = new SemaphoreSlim(MaxConcurrent, MaxConcurrent);
        _decoy = new Lazy<string>(() => _hasher.HashPassword(Account, Guid.NewGuid().ToString()));
    }

    public int MaxConcurrent { get; }

    /// <summary>The most hashes that ever ran at once (for tests and diagnostics).</summary>
    public int PeakConcurrent => Volatile.Read(ref _peak);

    public Task<string> HashAsync(string password) => RunAsync(() => _hasher.HashPassword(Account, password));

    public Task<PasswordVerificationResult> VerifyAsync(string hash, string password) =>
        RunAsync(() => _hasher.VerifyHashedPassword(Account, hash, password));

    /// <summary>Spend the same time for an unknown user as for a wrong password.</summary>
    public Task VerifyDecoyAsync(string password) => RunAsync(() => _hasher.VerifyHashedPassword(Account, _decoy.Value, password));

    private async Task<T> RunAsync<T>(Func<T> work)
    {
        await _gate.WaitAsync();
        try
        {
            var running = Interlocked.Increment(ref _running);
            for (var peak = Volatile.Read(ref _peak); running > peak; peak = Volatile.Read(ref _peak))
            {
                Interlocked.CompareExchange(ref _peak, running, peak);
            }

            return work();
        }
        finally
        {
            Interlocked.Decrement(ref _running);
            _gate.Release();
        }
    }

    public sealed class AgentAccount;
}
