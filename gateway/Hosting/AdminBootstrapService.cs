using System.Security.Cryptography;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Identity;

namespace Kefu.Gateway.Hosting;

/// <summary>
/// Makes sure the bootstrap admin agent "admin" exists. Its password comes from Kefu:Bootstrap:AdminPassword; when
/// that is unset and the account is new, a random one is generated and printed once. In the embedded default the
/// generated password is kept in the <see cref="EmbeddedState"/> file, printed at the start that created it.
/// </summary>
public sealed partial class AdminBootstrapService(
    IGrainFactory grains,
    IConfiguration configuration,
    AgentPasswords passwords,
    GatewayReadiness readiness,
    TimeProvider time,
    ILogger<AdminBootstrapService> logger,
    EmbeddedState? embedded = null) : IHostedService
{
    public const string AdminId = "admin";
    public const string PasswordKey = "Kefu:Bootstrap:AdminPassword";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (embedded?.Problem is { } problem)
        {
            LogStateProblem(logger, problem);
        }

        var configured = configuration[PasswordKey];
        var admin = grains.GetGrain<IAgentGrain>(Tenancy.Key(Tenancy.DefaultTenant, AdminId));
        var credentials = await admin.GetCredentials();
        if (credentials is null)
        {
            var password = string.IsNullOrEmpty(configured) ? Convert.ToBase64String(RandomNumberGenerator.GetBytes(15)) : configured;
            var profile = new AgentProfile(AdminId, "Administrator", AgentRoles.Admin, time.GetUtcNow());
            var created = await admin.Create(profile, await passwords.HashAsync(password));
            if (created.IsOk && embedded is not null && configured == embedded.NewAdminPassword)
            {
                // Printed once, at the first start; later starts reuse it from the state file.
                await Console.Out.WriteLineAsync($"""

                    ==== Kefu first start: admin login ====
                      username: {AdminId}
                      password: {password}
                    (kept for the next starts in {embedded.Path}; set {PasswordKey} / Kefu__Bootstrap__AdminPassword to choose it)

                    """);
            }
            else if (created.IsOk && embedded is { KeepsAdminPassword: true, Problem: null })
            {
                LogPasswordFromState(logger, embedded.Path);
            }
            else if (created.IsOk && string.IsNullOrEmpty(configured))
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
        else if (!string.IsNullOrEmpty(configured) && await passwords.VerifyAsync(credentials.PasswordHash, configured) == PasswordVerificationResult.Failed)
        {
            // A reset, not a rehash: tokens issued under the old password are revoked.
            await admin.Update(new AgentUpdate(null, null, null, await passwords.HashAsync(configured)));
            LogPasswordReset(logger);
        }

        readiness.Bootstrapped();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Embedded state file: {Problem}; the admin password, inbox key and signing key of this run will not survive a restart")]
    private static partial void LogStateProblem(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin password: as printed at the first start (kept in {Path})")]
    private static partial void LogPasswordFromState(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "The admin password was set from configuration")]
    private static partial void LogPasswordReset(ILogger logger);
}
