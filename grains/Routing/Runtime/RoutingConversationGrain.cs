using Kefu.Contracts.Grains;
using Kefu.Grains.Hosting;

namespace Kefu.Grains.Routing.Runtime;

[GenerateSerializer]
public sealed class RoutingConversationState
{
    /// <summary>Route id → its last run in this conversation.</summary>
    [Id(0)] public Dictionary<string, RouteRun> Runs { get; set; } = new(StringComparer.Ordinal);
}

[GenerateSerializer, Immutable]
public sealed record RouteRun([property: Id(0)] string EventId, [property: Id(1)] DateTimeOffset At);

/// <summary>
/// <c>once_per: conversation</c> and <c>cooldown</c> for one conversation's routes (key "{tenant}/{conversationId}"). Only
/// routes that use them come here; the claim is durable before the route runs, so a lost silo never lets one run twice.
/// </summary>
[CollectionAgeLimit(Minutes = 5)]
public sealed class RoutingConversationGrain(
    [PersistentState("routingConversation", KefuStorage.Name)] IPersistentState<RoutingConversationState> state) : Grain, IRoutingConversationGrain
{
    public async Task<bool> TryClaim(string routeId, string eventId, bool oncePerConversation, TimeSpan? cooldown, DateTimeOffset now)
    {
        if (!RouteRunRules.MayRun(state.State.Runs.GetValueOrDefault(routeId), eventId, oncePerConversation, cooldown, now))
        {
            return false;
        }

        if (state.State.Runs.GetValueOrDefault(routeId)?.EventId != eventId)
        {
            state.State.Runs[routeId] = new RouteRun(eventId, now);
            await state.WriteStateAsync();
        }

        return true;
    }
}

/// <summary>The plain rule behind <see cref="RoutingConversationGrain"/>.</summary>
public static class RouteRunRules
{
    public static bool MayRun(RouteRun? last, string eventId, bool oncePerConversation, TimeSpan? cooldown, DateTimeOffset now) =>
        last is null
        || last.EventId == eventId // the same event again: a re-run, already allowed
        || (!oncePerConversation && (cooldown is not { } wait || now - last.At >= wait));
}
