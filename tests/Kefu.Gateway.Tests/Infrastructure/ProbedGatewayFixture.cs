using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Gateway.Tests.Infrastructure;

/// <summary>
/// Records every grain call the embedded silo receives (interface, method, grain key), so a test can prove that a
/// request did not cost a call: the list did not ask the conversations, a visitor frame did not ask the visitor grain.
/// </summary>
public sealed class GrainCallProbe : IIncomingGrainCallFilter
{
    private readonly ConcurrentQueue<(string Interface, string Method, string Key)> _calls = new();

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        _calls.Enqueue((context.InterfaceName, context.MethodName, context.TargetId.Key.ToString()));
        await context.Invoke();
    }

    /// <summary>Calls to <typeparamref name="TGrain"/> whose grain key contains <paramref name="keyPart"/>.</summary>
    public int Count<TGrain>(string keyPart, string? method = null) =>
        _calls.Count(c => c.Interface.EndsWith(typeof(TGrain).Name, StringComparison.Ordinal)
            && c.Key.Contains(keyPart, StringComparison.Ordinal)
            && (method is null || c.Method == method));
}

/// <summary>A gateway of its own whose silo records the grain calls it receives.</summary>
public sealed class ProbedGatewayFixture : GatewayFixture
{
    public GrainCallProbe Probe { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddSingleton<IIncomingGrainCallFilter>(Probe);
}

[CollectionDefinition(Name)]
public sealed class ProbedGatewayCollection : ICollectionFixture<ProbedGatewayFixture>
{
    public const string Name = "probed-gateway";
}
