using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Kefu.Contracts.Events;
using Kefu.Grains.DataProtection;
using MySqlConnector;

namespace Kefu.Grains.Events;

/// <summary>
/// A contact's export and erasure over <c>kefu_event</c> (docs/data-protection.md). A rare, admin-started operation:
/// it walks the tenant's events in cursor pages (the conversation's own events have no index of their own), and an
/// erasure rewrites only the rows whose blanked data differs, one short statement per row.
/// </summary>
public sealed partial class MySqlEventLog : IPersonalEventLog
{
    private const int AboutPage = 500;

    public async IAsyncEnumerable<StoredEvent> ReadAboutAsync(
        string tenant, string contactId, IReadOnlyCollection<string> conversationIds, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var after = 0L;
        while (true)
        {
            var (page, next) = await ReadAboutPageAsync(tenant, contactId, conversationIds, after, fillMessages: true, cancellationToken).ConfigureAwait(false);
            foreach (var e in page)
            {
                yield return e;
            }

            if (next is not { } more)
            {
                yield break;
            }

            after = more;
        }
    }

    public async Task<long> EraseAboutAsync(string tenant, string contactId, IReadOnlyCollection<string> conversationIds, CancellationToken cancellationToken)
    {
        long changed = 0;
        var after = 0L;
        while (true)
        {
            var (page, next) = await ReadAboutPageAsync(tenant, contactId, conversationIds, after, fillMessages: false, cancellationToken).ConfigureAwait(false);
            await using (var connection = await OpenAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var e in page)
                {
                    // A message.created row holds no data of its own (its message row is deleted by the erasure).
                    var blanked = e.DataJson.Length == 0 ? null : PersonalFields.Blank(e.DataJson);
                    var dataChanged = blanked is not null && blanked != e.DataJson;
                    var nameChanged = e.Causation.Kind == Causation.Visitor && e.Causation.Name is not null;
                    if (!dataChanged && !nameChanged)
                    {
                        continue;
                    }

                    await using var update = new MySqlCommand(
                        "UPDATE " + Table + " SET data = COALESCE(@data, data), causation_name = IF(causation_kind = 'visitor', NULL, causation_name) " +
                        "WHERE tenant = @tenant AND cursor_no = @cursor", connection);
                    update.Parameters.AddWithValue("@data", dataChanged ? blanked : null);
                    update.Parameters.AddWithValue("@tenant", tenant);
                    update.Parameters.AddWithValue("@cursor", e.Cursor);
                    changed += await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            if (next is not { } more)
            {
                return changed;
            }

            after = more;
        }
    }

    /// <summary>One page of the events about the scope after <paramref name="after"/>, and the cursor to continue from (null at the end).</summary>
    private async Task<(List<StoredEvent> Page, long? Next)> ReadAboutPageAsync(
        string tenant, string contactId, IReadOnlyCollection<string> conversationIds, long after, bool fillMessages, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new MySqlCommand { Connection = connection };
        command.Parameters.AddWithValue("@tenant", tenant);
        command.Parameters.AddWithValue("@after", after);
        command.Parameters.AddWithValue("@limit", AboutPage);
        command.Parameters.AddWithValue("@contact", contactId);
        var conversations = new StringBuilder();
        var i = 0;
        foreach (var id in conversationIds.Distinct(StringComparer.Ordinal))
        {
            var name = "@c" + i++.ToString(CultureInfo.InvariantCulture);
            conversations.Append(conversations.Length == 0 ? string.Empty : ",").Append(name);
            command.Parameters.AddWithValue(name, id);
        }

        var inConversations = conversations.Length == 0
            ? "FALSE"
            : $"(conversation_id IN ({conversations}) OR activity_conversation IN ({conversations}))";
        // The scan is bounded per page by cursor; rows are filtered in the server, so a page may examine many rows.
        command.CommandText =
            "SELECT " + EventColumns + " FROM " + Table + " WHERE tenant = @tenant AND cursor_no > @after AND cursor_no <= @after + @window AND (" +
            inConversations +
            " OR (type IN ('contact.created', 'contact.updated') AND JSON_VALUE(data, '$.contact.id') = @contact)" +
            " OR (type = 'inbound.received' AND JSON_VALUE(data, '$.contactId') = @contact)) ORDER BY cursor_no LIMIT @limit;" +
            "SELECT COALESCE(MAX(cursor_no), 0) FROM " + Table + " WHERE tenant = @tenant";
        command.Parameters.AddWithValue("@window", ScanWindow);
        var page = new List<StoredEvent>();
        List<(int Index, long MessageSeq)>? byReference = null;
        long head;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var data = reader.IsDBNull(9) ? null : reader.GetString(9);
                if (data is null)
                {
                    (byReference ??= []).Add((page.Count, reader.GetInt64(10)));
                }

                page.Add(ReadEvent(reader, tenant, data ?? string.Empty));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            head = reader.GetInt64(0);
        }

        if (fillMessages && byReference is not null)
        {
            await FillMessagesAsync(connection, tenant, page, byReference, cancellationToken).ConfigureAwait(false);
        }

        // A full page continues after its last event; a short one after the window it examined, until the head.
        long? next = page.Count == AboutPage ? page[^1].Cursor : after + ScanWindow < head ? after + ScanWindow : null;
        return (page, next);
    }
}
