using System.Collections.Concurrent;
using System.Globalization;
using Kefu.Gateway.Tests.Email;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Tests.Crm;
using Kefu.Grains.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Gateway.Tests.DataProtection;

/// <summary>
/// A gateway whose silo has one more personal-data holder, <see cref="FlakyHolder"/>, that fails for the contacts a test
/// names: a store that is down in the middle of an erasure. Contacts and resolved conversations sync to a CRM
/// (<see cref="Crm"/>, a fake on loopback, as <see cref="CrmName"/>) and mail goes to a <see cref="MailSink"/>
/// (<see cref="Sink"/>), with short waits, so an erasure has CRM sync records and mail to reach.
/// </summary>
public sealed class DataProtectionGatewayFixture : GatewayFixture, IAsyncLifetime
{
    public const string CrmName = "dp";

    public DataProtectionGatewayFixture()
    {
        Crm = FakeCrm.StartAsync().GetAwaiter().GetResult();
        Crm.For(CrmName);
    }

    public FlakyHolder Flaky { get; } = new();

    public FakeCrm Crm { get; }

    public MailSink Sink { get; } = MailSink.Start();

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            const string at = $"Kefu:Crm:Connectors:{CrmName}";
            return new Dictionary<string, string?>
            {
                ["Kefu:Crm:PollInterval"] = "00:00:00.100",
                ["Kefu:Crm:Secrets:token"] = "t0ken",
                [$"{at}:BaseUrl"] = new Uri(Crm.BaseUrl, CrmName).ToString(),
                [$"{at}:Auth:SecretRef"] = "token",
                [$"{at}:Retry:BaseDelay"] = "00:00:00.100",
                [$"{at}:Retry:MaxDelay"] = "00:00:00.200",
                [$"{at}:Retry:MaxAttempts"] = "1000",
                [$"{at}:Contacts:Upsert:Path"] = "/contacts/{id}",
                [$"{at}:Contacts:Get:Path"] = "/contacts/{id}",
                [$"{at}:Contacts:Fields:name"] = "name",
                [$"{at}:Contacts:Fields:email"] = "email",
                [$"{at}:Conversations:Upsert:Path"] = "/conversations/{id}",
                [$"{at}:Conversations:Get:Path"] = "/conversations/{id}",
                [$"{at}:Conversations:Fields:conversationId"] = "kefu_conversation_id",
                [$"{at}:Conversations:Fields:transcript"] = "transcript",
                ["Kefu:Mail:Smtp:Host"] = "127.0.0.1",
                ["Kefu:Mail:Smtp:Port"] = Sink.Port.ToString(CultureInfo.InvariantCulture),
                ["Kefu:Mail:Smtp:Security"] = "none",
                ["Kefu:Mail:Smtp:Timeout"] = "00:00:05",
                ["Kefu:Mail:OfflineReplyAfter"] = "00:00:00.300",
                ["Kefu:Mail:PollInterval"] = "00:00:00.200",
                ["Kefu:Mail:Retry:BaseDelay"] = "00:00:00.100",
                ["Kefu:Mail:Retry:MaxDelay"] = "00:00:00.300",
                ["Kefu:Mail:Retry:MaxAttempts"] = "1000",
            };
        }
    }

    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddSingleton<IPersonalDataHolder>(Flaky);

    Task IAsyncLifetime.InitializeAsync() => InitializeAsync();

    // Re-implemented so the fakes stop with the gateway (the base's DisposeAsync is not virtual).
    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await Sink.DisposeAsync();
        await Crm.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class DataProtectionGatewayCollection : ICollectionFixture<DataProtectionGatewayFixture>
{
    public const string Name = "data-protection-gateway";
}

/// <summary>Exports one small file; an erasure of a contact in <see cref="FailFor"/> throws, of any other succeeds.</summary>
public sealed class FlakyHolder : IPersonalDataHolder
{
    public const string HolderName = "flaky-test";

    public ConcurrentDictionary<string, bool> FailFor { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, int> Erasures { get; } = new(StringComparer.Ordinal);

    public string Name => HolderName;

    public Task ExportAsync(PersonalDataScope scope, IPersonalDataExportWriter writer, CancellationToken cancellationToken) =>
        writer.WriteJsonAsync("flaky-test/note.json", new { scope.ContactId }, cancellationToken);

    public Task<long> EraseAsync(PersonalDataScope scope, CancellationToken cancellationToken)
    {
        Erasures.AddOrUpdate(scope.ContactId, 1, (_, n) => n + 1);
        if (FailFor.ContainsKey(scope.ContactId))
        {
            throw new IOException("The test store is down.");
        }

        return Task.FromResult(1L);
    }
}
