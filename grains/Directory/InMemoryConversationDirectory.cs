using System.Collections.Concurrent;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Directory;

/// <summary>
/// The embedded-mode directory: process memory. A row is the conversation's whole summary (everything the list shows),
/// kept by the rules of the MySQL directory: a write from an older view of the conversation (lower last seq) takes
/// the summary's fields but never moves the per-message ones (preview, activity, unread, read marks, last seq) back.
/// </summary>
public sealed class InMemoryConversationDirectory : IConversationDirectory
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, ConversationSummary>> _tenants = new(StringComparer.Ordinal);

    public ValueTask UpsertAsync(ConversationSummary summary, CancellationToken cancellationToken = default)
    {
        _tenants.GetOrAdd(summary.Tenant, static _ => new(StringComparer.Ordinal))
            .AddOrUpdate(summary.ConversationId, static (_, written) => written, static (_, known, written) => Merge(known, written), summary);
        return ValueTask.CompletedTask;
    }

    private static ConversationSummary Merge(ConversationSummary known, ConversationSummary written) =>
        written.LastSeq >= known.LastSeq
            ? written
            : written with
            {
                LastSeq = known.LastSeq,
                Preview = known.Preview,
                LastActivityAt = known.LastActivityAt,
                Unread = known.Unread,
                ReadMarks = known.ReadMarks,
            };

    public ValueTask<bool> ErasePersonalAsync(string tenant, string conversationId, CancellationToken cancellationToken = default)
    {
        if (!_tenants.TryGetValue(tenant, out var conversations))
        {
            return ValueTask.FromResult(false);
        }

        while (conversations.TryGetValue(conversationId, out var known))
        {
            if (known.VisitorName is null && known.Preview is null && known.Csat?.Comment is null)
            {
                return ValueTask.FromResult(false);
            }

            var blanked = known with { VisitorName = null, Preview = null, Csat = known.Csat is { } csat ? csat with { Comment = null } : null };
            if (conversations.TryUpdate(conversationId, blanked, known))
            {
                return ValueTask.FromResult(true);
            }
        }

        return ValueTask.FromResult(false);
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
