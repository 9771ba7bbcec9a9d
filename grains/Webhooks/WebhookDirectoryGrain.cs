using Kefu.Contracts.Grains;
using Kefu.Grains.Hosting;

namespace Kefu.Grains.Webhooks;

[GenerateSerializer]
public sealed class WebhookDirectoryState
{
    [Id(0)] public List<string> EndpointIds { get; set; } = [];
}

/// <summary>A tenant's webhook endpoint ids, for the list (each endpoint grain holds its own configuration).</summary>
public sealed class WebhookDirectoryGrain(
    [PersistentState("webhooks", KefuStorage.Name)] IPersistentState<WebhookDirectoryState> state) : Grain, IWebhookDirectoryGrain
{
    public async Task Add(string endpointId)
    {
        if (!state.State.EndpointIds.Contains(endpointId, StringComparer.Ordinal))
        {
            state.State.EndpointIds.Add(endpointId);
            await state.WriteStateAsync();
        }
    }

    public async Task Remove(string endpointId)
    {
        if (state.State.EndpointIds.Remove(endpointId))
        {
            await state.WriteStateAsync();
        }
    }

    public Task<string[]> List() => Task.FromResult(state.State.EndpointIds.ToArray());
}
