using System.Text.Json.Nodes;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Plugins;
using Kefu.Plugins;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Plugins;

/// <summary>
/// A tenant's before_message plugins on the chat path (docs/plugins.md "Where plugins run"). The gateway asks it before
/// <see cref="IConversationGrain.Send"/>, so guest code never runs inside a conversation's turn; each plugin runs in its
/// own <see cref="IPluginGrain"/> (off the scheduler). The hook set is cached for <see cref="PluginHookOptions.HookSetRefresh"/>:
/// a tenant without plugins costs one local call that answers at once. A stateless worker, reentrant: one visitor's
/// messages stay in order because the gateway awaits each before sending the next; other visitors' run alongside.
/// </summary>
[StatelessWorker]
[Reentrant]
public sealed partial class BeforeMessageHookGrain(
    IOptions<PluginHookOptions> options,
    TimeProvider time,
    ILogger<BeforeMessageHookGrain> logger) : Grain, IBeforeMessageHookGrain
{
    // A visitor's inbox never changes: remembered so a WebSocket send (which does not know it) costs no lookup after the first.
    private const int MaxInboxesKept = 10_000;
    private readonly Dictionary<string, string> inboxes = new(StringComparer.Ordinal);
    private PluginHookSet? hooks;
    private DateTimeOffset fetchedAt;
    private Task<PluginHookSet>? fetching;

    private string Tenant => this.GetPrimaryKeyString();

    public async Task<BeforeMessageOutcome> Run(BeforeMessageInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var set = await HooksAsync();
        if (set.BeforeMessage.Length == 0)
        {
            return new BeforeMessageOutcome(input.Text);
        }

        var inbox = input.Inbox ?? await InboxOfAsync(input.VisitorId);
        var text = input.Text;
        foreach (var entry in set.BeforeMessage)
        {
            var call = new PluginCall(PluginHooks.BeforeMessage, Input(input, inbox, text), Deadline: null);
            PluginCallResult result;
            try
            {
                result = await GrainFactory.GetGrain<IPluginGrain>($"{Tenant}/{entry.Name}").Call(call);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
            {
                // The plugin's grain could not answer (a silo lost): a failed call like any other, so on_error decides.
                result = PluginCallResult.Failure(PluginErrorCodes.Failed, ex.GetType().Name);
            }

            if (!result.Ok)
            {
                if (entry.OnError == PluginManifest.OnErrorRefuse)
                {
                    LogRefused(logger, Tenant, entry.Name, result.ErrorCode!);
                    return new BeforeMessageOutcome(input.Text, entry.Name, "The message could not be checked, so it was not sent.");
                }

                continue; // on_error allow: this plugin is skipped, the message goes on as it is
            }

            if (Array.Find(result.Actions, a => a.Kind == PluginActionKinds.Drop) is { } drop)
            {
                LogRefused(logger, Tenant, entry.Name, PluginActionKinds.Drop);
                return new BeforeMessageOutcome(input.Text, entry.Name, ReasonOf(drop));
            }

            text = PluginOutputReader.ApplyText(text, result.Actions);
        }

        return new BeforeMessageOutcome(text);
    }

    private async Task<string> InboxOfAsync(string visitorId)
    {
        if (inboxes.TryGetValue(visitorId, out var known))
        {
            return known;
        }

        var inbox = (await GrainFactory.GetGrain<IVisitorGrain>(Tenancy.Key(Tenant, visitorId)).GetProfile())?.Inbox ?? Tenancy.DefaultInbox;
        if (inboxes.Count >= MaxInboxesKept)
        {
            inboxes.Clear();
        }

        inboxes[visitorId] = inbox;
        return inbox;
    }

    /// <summary>The cached hook set, fetched again when older than the refresh time (one fetch however many messages wait).</summary>
    private async Task<PluginHookSet> HooksAsync()
    {
        var now = time.GetUtcNow();
        if (hooks is { } cached && now - fetchedAt < options.Value.HookSetRefresh)
        {
            return cached;
        }

        fetching ??= GrainFactory.GetGrain<IPluginRegistryGrain>(Tenant).GetHooks();
        var pending = fetching;
        try
        {
            PluginHookSet fetched;
            try
            {
                fetched = await pending;
            }
            catch (Exception ex) when (hooks is not null && ex is not OutOfMemoryException)
            {
                // The registry did not answer (its silo lost): the last known set is better than stopping the tenant's chat.
                LogStale(logger, ex, Tenant);
                return hooks;
            }

            hooks = fetched; // one fetch at a time: what it answers is the newest there is
            fetchedAt = now;
            return hooks;
        }
        finally
        {
            if (ReferenceEquals(fetching, pending))
            {
                fetching = null;
            }
        }
    }

    private static string Input(BeforeMessageInput input, string inbox, string text) => new JsonObject
    {
        ["message"] = new JsonObject
        {
            ["conversation_id"] = input.ConversationId,
            ["inbox"] = inbox,
            ["text"] = text,
            ["sender"] = new JsonObject { ["role"] = "visitor", ["id"] = input.VisitorId },
        },
    }.ToJsonString();

    private static string ReasonOf(PluginAction drop)
    {
        var reason = JsonNode.Parse(drop.Json)?["reason"] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
        return string.IsNullOrWhiteSpace(reason) ? "The message was not accepted." : reason;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Plugins of tenant {Tenant}: the registry did not answer; the last known hooks are used")]
    private static partial void LogStale(ILogger logger, Exception exception, string tenant);

    // Never the text: only who refused and why in code.
    [LoggerMessage(Level = LogLevel.Debug, Message = "Plugin {Tenant}/{Plugin} refused a visitor message ({Code})")]
    private static partial void LogRefused(ILogger logger, string tenant, string plugin, string code);
}
