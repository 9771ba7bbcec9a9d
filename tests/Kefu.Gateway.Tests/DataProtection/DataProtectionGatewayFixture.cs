using System.Collections.Concurrent;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Gateway.Tests.DataProtection;

/// <summary>
/// A gateway whose silo has one more personal-data holder, <see cref="FlakyHolder"/>, that fails for the contacts a test
/// names: a store that is down in the middle of an erasure.
/// </summary>
public sealed class DataProtectionGatewayFixture : GatewayFixture
{
    public FlakyHolder Flaky { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddSingleton<IPersonalDataHolder>(Flaky);
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
