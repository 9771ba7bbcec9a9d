using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Grains.Crm;
using Kefu.Grains.Email;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.DataProtection;

/// <summary>
/// The CRM sync records of the contact and of its conversations (docs/crm.md): each holds the CRM's values as last
/// confirmed (a contact's name, email and attributes; a conversation's transcript), conflicts with both sides' values
/// and the last error. Erased by forgetting the record for good, which also stops any pending or later sync of it.
/// Kefu tells the CRM nothing: the CRM is the business's system of record, its record is the business's to erase.
/// </summary>
public sealed class CrmSyncHolder(IGrainFactory grains, IOptionsMonitor<CrmOptions> options) : IPersonalDataHolder
{
    public string Name => "crm";

    public async Task ExportAsync(PersonalDataScope scope, IPersonalDataExportWriter writer, CancellationToken cancellationToken)
    {
        foreach (var (kind, recordId) in Records(scope))
        {
            foreach (var crm in Crms(scope.Tenant))
            {
                if (await grains.GetGrain<ICrmSyncRecordData>(CrmSyncKeys.Of(scope.Tenant, crm, kind, recordId)).Export() is { } data)
                {
                    await writer.WriteJsonAsync($"crm/{crm}/{kind}/{recordId}.json", ExportDocuments.CrmRecordDocument.From(data), cancellationToken);
                }
            }
        }
    }

    public async Task<long> EraseAsync(PersonalDataScope scope, CancellationToken cancellationToken)
    {
        var index = grains.GetGrain<ICrmSyncIndexErasure>(scope.Tenant);
        long erased = 0;
        foreach (var (kind, recordId) in Records(scope))
        {
            // The configured CRMs, and any the index still lists the record for (one removed from the configuration since).
            var listed = await index.Forget(kind, recordId);
            foreach (var crm in Crms(scope.Tenant).Union(listed, StringComparer.Ordinal))
            {
                erased += await grains.GetGrain<ICrmSyncRecordData>(CrmSyncKeys.Of(scope.Tenant, crm, kind, recordId)).Erase() ? 1 : 0;
            }

            // Again: a view the record reported while it was being erased.
            await index.Forget(kind, recordId);
        }

        return erased;
    }

    private static IEnumerable<(string Kind, string RecordId)> Records(PersonalDataScope scope) =>
        scope.ConversationIds.Select(id => (CrmRecordKinds.Conversation, id)).Prepend((CrmRecordKinds.Contact, scope.ContactId));

    private string[] Crms(string tenant) => [.. options.CurrentValue.ForTenant(tenant).Select(c => c.Name)];
}

/// <summary>
/// The mail about the contact's conversations (docs/email.md): each conversation's mail thread (the ids of its mails, a
/// pending offline reply) and the stored mails themselves (address, name, subject, text and HTML bodies). Erased by
/// deleting every stored mail and stopping the thread, so nothing pending goes out and nothing new is made.
/// </summary>
public sealed class MailHolder(IGrainFactory grains) : IPersonalDataHolder
{
    public string Name => "mail";

    public async Task ExportAsync(PersonalDataScope scope, IPersonalDataExportWriter writer, CancellationToken cancellationToken)
    {
        foreach (var conversationId in scope.ConversationIds)
        {
            foreach (var mailId in await grains.GetGrain<IMailThreadRecords>(Tenancy.Key(scope.Tenant, conversationId)).ListMails())
            {
                // Agent notifications go to an agent's address: the agent's data, not the customer's.
                if (await grains.GetGrain<IOutboundMailControl>(MailIds.Key(scope.Tenant, mailId)).Read() is { Mail.Kind: not MailKinds.AgentNotification } record)
                {
                    await writer.WriteJsonAsync($"mail/{mailId}.json", ExportDocuments.MailDocument.From(record), cancellationToken);
                }
            }
        }
    }

    public async Task<long> EraseAsync(PersonalDataScope scope, CancellationToken cancellationToken)
    {
        long erased = 0;
        foreach (var conversationId in scope.ConversationIds)
        {
            // The thread first: once it is stopped it makes no new mail, so the mails listed are all there will be.
            foreach (var mailId in await grains.GetGrain<IMailThreadRecords>(Tenancy.Key(scope.Tenant, conversationId)).Erase())
            {
                erased += await grains.GetGrain<IOutboundMailControl>(MailIds.Key(scope.Tenant, mailId)).Erase() ? 1 : 0;
            }
        }

        return erased;
    }
}
