using System.Collections.Concurrent;
using Kefu.Contracts.Events;
using Kefu.Grains.Events;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Kefu.Grains.Email;

public static class MailServices
{
    /// <summary>Outgoing mail on a silo (docs/email.md): options, the SMTP sender, the triggers' wake-ups and start, the startup note.</summary>
    public static IServiceCollection AddKefuMail(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MailOptions>()
            .Bind(configuration.GetSection(MailOptions.Section))
            .Validate(o => o.OfflineReplyAfter >= TimeSpan.Zero && o.PollInterval > TimeSpan.Zero && o.Retry.MaxAttempts >= 1
                           && o.Smtp.Timeout > TimeSpan.Zero && o.HistoryMessages >= 0 && o.TranscriptMaxMessages >= 1,
                "Kefu:Mail: OfflineReplyAfter must not be negative; PollInterval and Smtp:Timeout positive; Retry:MaxAttempts and TranscriptMaxMessages at least 1.")
            .Validate(o => o.From is null || MimeKit.MailboxAddress.TryParse(o.From, out _),
                "Kefu:Mail:From must be an address, e.g. 'Acme Support <support@acme.example>'.")
            .ValidateOnStart();
        services.TryAddSingleton<IMailSender, SmtpMailSender>();
        services.TryAddSingleton<MailWakeups>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConversationEventSink, MailTriggerSink>());
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, MailStartupNote>();
        return services;
    }
}

/// <summary>Wakes a tenant's mail trigger when mail-relevant events are committed on this silo.</summary>
public sealed class MailWakeups : TenantWakeups;

/// <summary>
/// Starts a tenant's mail trigger on the first mail-relevant event this silo commits for it (there is no list of tenants
/// to start at boot; the trigger's reminder keeps it going afterwards), then only wakes it. Returns at once, as sinks must.
/// Nothing happens while sending is not configured.
/// </summary>
internal sealed class MailTriggerSink(IGrainFactory grains, MailWakeups wakeups, IOptionsMonitor<MailOptions> options) : IConversationEventSink
{
    private static readonly HashSet<string> Relevant = [.. MailTriggerRules.Types];
    private readonly ConcurrentDictionary<string, byte> _started = new(StringComparer.Ordinal);

    public void OnCommitted(CommittedChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (change.Events.Count == 0 || !options.CurrentValue.SendingEnabled || !change.Events.Any(e => Relevant.Contains(e.Type)))
        {
            return;
        }

        if (_started.TryAdd(change.Tenant, 0))
        {
            grains.GetGrain<IMailTriggerGrain>(change.Tenant).Start().ContinueWith(
                t => _started.TryRemove(change.Tenant, out _), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return;
        }

        wakeups.Notify(change.Tenant, change.Events);
    }
}

/// <summary>Says once at start whether mail goes out (never the password or the key).</summary>
internal sealed partial class MailStartupNote(IOptions<MailOptions> options, ILogger<MailStartupNote> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(MailStartupNote), ServiceLifecycleStage.Active, _ =>
        {
            var o = options.Value;
            if (!o.SendingEnabled)
            {
                LogOff(logger);
            }
            else
            {
                var addresses = new MailAddresses(o);
                LogOn(logger, o.Smtp.Host!, o.Smtp.Port, o.Smtp.Security, addresses.Signed);
            }

            return Task.CompletedTask;
        }, _ => Task.CompletedTask);

    [LoggerMessage(Level = LogLevel.Information, Message = "Mail: sending is off (set Kefu:Mail:Smtp:Host and Kefu:Mail:From to send offline replies, transcripts and notifications)")]
    private static partial void LogOff(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Mail: sending through {Host}:{Port} (security {Security}); signed reply and bounce addresses: {Signed}")]
    private static partial void LogOn(ILogger logger, string host, int port, string security, bool signed);
}
