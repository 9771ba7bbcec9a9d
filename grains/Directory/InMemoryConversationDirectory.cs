using System.Collections.Concurrent;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Directory;

/// <summary>The embedded-mode directory: process memory.</summary>
public sealed class InMemoryConversationDirectory : IConversationDirectory
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, ConversationSummary>> _tenants = new(StringComparer.Ordinal);

    public ValueTask UpsertAsync(ConversationSummary summary, CancellationToken cancellationToken = default)
    {
        _tenants.GetOrAdd(summary.Tenant, static _ => new(StringComparer.Ordinal))[summary.ConversationId] = summary;
        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<ConversationSummary>> ListAsync(string tenant, ConversationQuery query, CancellationToken cancellationToken = default)
    {
        if (!_tenants.TryGetValue(tenant, out var conversations))
        {
            return ValueTask.FromResult<IReadOnlyList<ConversationSummary>>([]);
        }

        var result = conversations.Values
            .Where(c => c.Matches(query) && c.IsVisibleTo(query.AgentId, query.IsAdmin))
            .InListOrder()
            .Take(Math.Max(0, query.Limit))
            .ToArray();
        return ValueTask.FromResult<IReadOnlyList<ConversationSummary>>(result);
    }
}
