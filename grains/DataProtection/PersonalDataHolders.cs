using System.Runtime.CompilerServices;
using System.Text;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Attachments;
using Kefu.Grains.Directory;
using Kefu.Grains.Events;
using Kefu.Grains.Storage;
using static Kefu.Grains.DataProtection.ExportDocuments;

namespace Kefu.Grains.DataProtection;

/// <summary>
/// The conversations: their grains' state (visitor name, notes, rating comment), their messages in the message store
/// and the personal columns of their directory rows. Erased in that order: once the grain is gone it takes no new
/// message, so the delete that follows is the last word.
/// </summary>
public sealed class ConversationsHolder(IGrainFactory grains, IMessageStore messages, IConversationDirectory directory) : IPersonalDataHolder
{
    private const int Page = 500;

    public string Name => "conversations";

    public async Task ExportAsync(PersonalDataScope scope, IPersonalDataExportWriter writer, CancellationToken cancellationToken)
    {
        var reader = new Caller(scope.Tenant, ParticipantRole.Agent, "data-protection", null, IsAdmin: true);
        foreach (var id in scope.ConversationIds)
        {
            var conversation = grains.GetGrain<IConversationGrain>(Tenancy.Key(scope.Tenant, id));
            var summary = await conversation.GetSummary();
            var notes = summary is null ? [] : (await conversation.GetNotes(reader)).Value ?? [];
            var document = new ConversationDocument(
                id, summary?.Inbox ?? string.Empty, summary?.Status ?? "erased", summary?.VisitorId ?? string.Empty, summary?.VisitorName,
                summary?.CreatedAt, summary?.Tags ?? [],
                summary?.Csat is { } csat ? new RatingDocument(csat.Rating, csat.Comment, csat.Ts) : null,
                [.. notes.Select(NoteDocument.From)], Messages(scope.Tenant, id, cancellationToken));
            await writer.WriteJsonAsync($"conversations/{id}.json", document, cancellationToken);
        }
    }

    private async IAsyncEnumerable<MessageDocument> Messages(string tenant, string conversationId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var after = 0L;
        while (true)
        {
            var page = await messages.ReadAfterAsync(tenant, conversationId, after, Page, cancellationToken);
            foreach (var message in page)
            {
                yield return MessageDocument.From(message);
            }

            if (page.Count < Page)
            {
                yield break;
            }

            after = page[^1].Seq;
        }
    }

    public async Task<long> EraseAsync(PersonalDataScope scope, CancellationToken cancellationToken)
    {
        long changed = 0;
        foreach (var id in scope.ConversationIds)
        {
            changed += await grains.GetGrain<IConversationGrain>(Tenancy.Key(scope.Tenant, id)).ErasePersonalData();
            changed += await messages.DeleteConversationAsync(scope.Tenant, id, cancellationToken);
            changed += await directory.ErasePersonalAsync(scope.Tenant, id, cancellationToken) ? 1 : 0;
        }

        return changed;
    }
}

/// <summary>The files of the contact's conversations (<see cref="IAttachmentStore"/>): bytes and metadata.</summary>
public sealed class AttachmentsHolder(IAttachmentStore store) : IPersonalDataHolder
{
    public string Name => "attachments";

    public async Task ExportAsync(PersonalDataScope scope, IPersonalDataExportWriter writer, CancellationToken cancellationToken)
    {
        foreach (var conversationId in scope.ConversationIds)
        {
            await foreach (var info in store.ListByConversationAsync(scope.Tenant, conversationId, cancellationToken))
            {
                await using var content = await store.OpenReadAsync(info.AttachmentId, cancellationToken);
                if (content is not null)
                {
                    await writer.WriteFileAsync($"attachments/{info.AttachmentId}/{SafeFileName(info.Name)}", content, cancellationToken);
                }
            }
        }
    }

    public async Task<long> EraseAsync(PersonalDataScope scope, CancellationToken cancellationToken)
    {
        long deleted = 0;
        foreach (var conversationId in scope.ConversationIds)
        {
            var ids = new List<string>();
            await foreach (var info in store.ListByConversationAsync(scope.Tenant, conversationId, cancellationToken))
            {
                ids.Add(info.AttachmentId);
            }

            foreach (var id in ids)
            {
                deleted += await store.DeleteAsync(id, cancellationToken) ? 1 : 0;
            }
        }

        return deleted;
    }

    /// <summary>The uploaded name as one zip path segment: no separators, no "..", no control characters.</summary>
    public static string SafeFileName(string name)
    {
        var builder = new StringBuilder(Math.Min(name.Length, 200));
        foreach (var c in name.AsSpan(0, Math.Min(name.Length, 200)))
        {
            builder.Append(c is '/' or '\\' or ':' || char.IsControl(c) ? '_' : c);
        }

        var safe = builder.ToString().Trim().TrimStart('.');
        return safe.Length == 0 ? "file" : safe;
    }
}

/// <summary>The events about the contact and its conversations (<see cref="IPersonalEventLog"/>): exported whole, erased by blanking.</summary>
public sealed class EventsHolder(IEventLog log) : IPersonalDataHolder
{
    public string Name => "events";

    /// <summary>The outbox itself, under the wake-up wrappers routing and Kafka put around it.</summary>
    private IPersonalEventLog Log
    {
        get
        {
            var inner = log;
            while (inner is WakingEventLog waking)
            {
                inner = waking.Inner;
            }

            return inner as IPersonalEventLog ?? throw new NotSupportedException($"{inner.GetType().Name} cannot export or erase a contact's events.");
        }
    }

    public Task ExportAsync(PersonalDataScope scope, IPersonalDataExportWriter writer, CancellationToken cancellationToken) =>
        writer.WriteJsonAsync("events.json", Envelopes(scope, cancellationToken), cancellationToken);

    private async IAsyncEnumerable<System.Text.Json.JsonElement> Envelopes(PersonalDataScope scope, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var e in Log.ReadAboutAsync(scope.Tenant, scope.ContactId, scope.ConversationIds, cancellationToken))
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
            {
                Contracts.Events.EventJson.WriteEnvelope(json, e);
            }

            using var document = System.Text.Json.JsonDocument.Parse(buffer.WrittenMemory);
            yield return document.RootElement.Clone();
        }
    }

    public Task<long> EraseAsync(PersonalDataScope scope, CancellationToken cancellationToken) =>
        Log.EraseAboutAsync(scope.Tenant, scope.ContactId, scope.ConversationIds, cancellationToken);
}

/// <summary>The visitor identities the contact chatted as: profile (name, email, attributes) and conversation links.</summary>
public sealed class VisitorsHolder(IGrainFactory grains) : IPersonalDataHolder
{
    public string Name => "visitors";

    public async Task ExportAsync(PersonalDataScope scope, IPersonalDataExportWriter writer, CancellationToken cancellationToken)
    {
        foreach (var id in scope.VisitorIds)
        {
            if (await grains.GetGrain<IVisitorGrain>(Tenancy.Key(scope.Tenant, id)).GetProfile() is { } profile)
            {
                await writer.WriteJsonAsync($"visitors/{id}.json", VisitorDocument.From(id, profile), cancellationToken);
            }
        }
    }

    public async Task<long> EraseAsync(PersonalDataScope scope, CancellationToken cancellationToken)
    {
        long erased = 0;
        foreach (var id in scope.VisitorIds)
        {
            erased += await grains.GetGrain<IVisitorGrain>(Tenancy.Key(scope.Tenant, id)).ErasePersonalData() ? 1 : 0;
        }

        return erased;
    }
}

/// <summary>
/// The contact itself (profile, attributes, external id) and the external id's index entry. The erasure runs it last:
/// the index entry goes first, while the contact still names its external id, so a retry never loses track of it.
/// </summary>
public sealed class ContactHolder(IGrainFactory grains) : IPersonalDataHolder
{
    public const string HolderName = "contact";

    public string Name => HolderName;

    public async Task ExportAsync(PersonalDataScope scope, IPersonalDataExportWriter writer, CancellationToken cancellationToken)
    {
        if (await grains.GetGrain<IContactGrain>(Tenancy.Key(scope.Tenant, scope.ContactId)).Get() is { } contact)
        {
            await writer.WriteJsonAsync("contact.json", ContactDocument.From(contact, scope.VisitorIds, scope.ConversationIds), cancellationToken);
        }
    }

    public async Task<long> EraseAsync(PersonalDataScope scope, CancellationToken cancellationToken)
    {
        var contact = grains.GetGrain<IContactGrain>(Tenancy.Key(scope.Tenant, scope.ContactId));
        long erased = 0;
        if (await contact.Get() is { ExternalId: { } externalId })
        {
            erased += await grains.GetGrain<IContactIndexGrain>(Tenancy.Key(scope.Tenant, externalId)).Forget(scope.ContactId) ? 1 : 0;
        }

        return erased + (await contact.Erase() ? 1 : 0);
    }
}
