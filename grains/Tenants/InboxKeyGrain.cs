using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Hosting;

namespace Kefu.Grains.Tenants;

[GenerateSerializer]
public sealed class InboxKeyState
{
    [Id(0)] public InboxRef? Inbox { get; set; }
}

/// <summary>
/// Where a widget's public key points, keyed by the key itself, so a page load resolves its inbox with one call to a
/// small grain instead of a search through every tenant. Written only by the tenant grain that owns the inbox.
/// </summary>
public sealed class InboxKeyGrain([PersistentState("inboxkey", KefuStorage.Name)] IPersistentState<InboxKeyState> state) : Grain, IInboxKeyGrain
{
    public async Task Bind(InboxRef inbox)
    {
        if (state.State.Inbox == inbox)
        {
            return;
        }

        if (state.State.Inbox is { } other)
        {
            // Keys carry 144 random bits; a clash means a bug, and silently moving a live widget would be worse.
            throw new InvalidOperationException($"Inbox key is already bound to {other.Tenant}/{other.InboxId}.");
        }

        state.State.Inbox = inbox;
        await state.WriteStateAsync();
    }

    public async Task Unbind()
    {
        if (state.State.Inbox is null)
        {
            return;
        }

        await state.ClearStateAsync();
        state.State.Inbox = null;
    }

    public Task<InboxRef?> Resolve() => Task.FromResult(state.State.Inbox);
}
