using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Kefu.Grains.DataProtection;

/// <summary>
/// Runs every <see cref="IPersonalDataHolder"/>'s export for one contact and streams the files to the caller (the
/// gateway zips them). The holders run on the thread pool and write into a small bounded channel that this grain's
/// enumeration drains, so memory stays a few chunks per export whatever its size.
/// </summary>
[StatelessWorker]
[Reentrant]
public sealed partial class ContactExportGrain(IEnumerable<IPersonalDataHolder> holders, ILogger<ContactExportGrain> logger) : Grain, IContactExportGrain
{
    public async IAsyncEnumerable<ExportChunk> Export(string contactId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var tenant = this.GetPrimaryKeyString();
        if (await ContactScope.ForAsync(GrainFactory, tenant, contactId) is not { } scope)
        {
            yield break;
        }

        var channel = Channel.CreateBounded<ExportChunk>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writer = new ExportChunkWriter(channel.Writer);
        var all = holders.ToArray();
        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var holder in all)
                {
                    await holder.ExportAsync(scope, writer, stop.Token);
                }

                channel.Writer.Complete();
            }
            catch (Exception ex)
            {
                channel.Writer.Complete(ex);
            }
        }, CancellationToken.None);

        try
        {
            await foreach (var chunk in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return chunk;
            }
        }
        finally
        {
            // An abandoned export (the client went away) stops its holders instead of leaving them waiting on the channel.
            await stop.CancelAsync();
            await producer;
        }

        LogExported(logger, tenant, contactId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Exported the personal data of contact {ContactId} of tenant {Tenant}")]
    private static partial void LogExported(ILogger logger, string tenant, string contactId);
}

/// <summary>Whose data an export or erasure covers, read from the contact (its visitors, and their conversations too).</summary>
public static class ContactScope
{
    public static async Task<PersonalDataScope?> ForAsync(IGrainFactory grains, string tenant, string contactId)
    {
        var grain = grains.GetGrain<IContactGrain>(Tenancy.Key(tenant, contactId));
        if (await grain.Get() is not { } contact)
        {
            return null;
        }

        var visitors = await grain.GetVisitorIds();
        return new PersonalDataScope(tenant, contactId, visitors, contact.ConversationIds);
    }
}
