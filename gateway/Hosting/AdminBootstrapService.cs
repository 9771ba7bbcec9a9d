using System.Security.Cryptography;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Identity;

namespace Kefu.Gateway.Hosting;

/// <summary>
/// Makes sure the bootstrap admin agent "admin" exists. Its password comes from Kefu:Bootstrap:AdminPassword; when
/// that is unset and the account is new, a random one is generated and printed once.
/// </summary>
public sealed partial class AdminBootstrapService(
    IGrainFactory grains,
    IConfiguration configuration,
    AgentPasswords passwords,
    GatewayReadiness readiness,
    TimeProvider time,
    ILogger<AdminBootstrapService> logger) : IHostedService
{
    public const string AdminId = "admin";
    public const string PasswordKey = "Kefu:Bootstrap:AdminPassword";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var configured = configuration[PasswordKey];
        var admin = grains.GetGrain<IAgentGrain>(Tenancy.Key(Tenancy.DefaultTenant, AdminId));
        var credentials = await admin.GetCredentials();
        if (credentials is null)
        {
            var password = string.IsNullOrEmpty(configured) ? Convert.ToBase64String(RandomNumberGenerator.GetBytes(15)) : configured;
            var profile = new AgentProfile(AdminId, "Administrator", AgentRoles.Admin, time.GetUtcNow());
            var created = await admin.Create(profile, passwords.Hash(password));
            if (created.IsOk && string.IsNullOrEmpty(configured))
            {
                // Printed once, on the console, at the start that created the account.
                await Console.Out.WriteLineAsync($"""

                    ==== Kefu first start: admin login ====
                      username: {AdminId}
                      password: {password}
                    (set {PasswordKey} / Kefu__Bootstrap__AdminPassword to choose it)

                    """);
            }
        }
        else if (!string.IsNullOrEmpty(configured) && passwords.Verify(credentials.PasswordHash, configured) == PasswordVerificationResult.Failed)
        {
            // A reset, not a rehash: tokens issued under the old password are revoked.
            await admin.Update(new AgentUpdate(null, null, null, passwords.Hash(configured)));
            LogPasswordReset(logger);
        }

        readiness.Bootstrapped();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "The admin password was set from configuration")]
    private static partial void LogPasswordReset(ILogger logger);
}
