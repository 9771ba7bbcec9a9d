using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Contracts.Plugins;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Kefu.Grains.Routing.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Plugins;

[GenerateSerializer]
public sealed class AfterMessageHookState
{
    /// <summary>Every event up to here has been handled (its plugins called and their actions applied).</summary>
    [Id(0)] public long Cursor { get; set; }

    /// <summary>When the tenant last got after_message plugins: messages from before are history, not news.</summary>
    [Id(1)] public DateTimeOffset? StartedAt { get; set; }

    /// <summary>The tenant had no after_message plugin any more: the reader stopped (a new Start begins from then).</summary>
    [Id(2)] public bool Stopped { get; set; }

    [Id(3)] public long Handled { get; set; }

    [Id(4)] public long Failed { get; set; }
}

/// <summary>
/// A tenant's after_message plugins (docs/plugins.md "Where plugins run"): reads visitor <c>message.created</c> events after
/// a durable cursor (the <see cref="EventLogPump"/> pattern of the mail trigger and the router), runs each enabled
/// after_message plugin on each, and applies tag / reply / set_attribute / emit as a rule would (causation kind rule, id
/// <c>plugin:&lt;name&gt;</c>, one level deeper). At least once: the cursor moves after a page is handled, and every effect is
/// idempotent — a reply's client message id and an emitted event's id come from the event id, the plugin and the action's
/// index; tags and attributes are set, not added twice. A failed call is not retried (a plugin is deterministic).
/// Started by the registry when the tenant has after_message plugins, kept alive by a reminder, stopped when it has none.
/// </summary>
public sealed partial class AfterMessageHookGrain(
    [PersistentState("afterMessageHook", KefuStorage.Name)] IPersistentState<AfterMessageHookState> state,
    IEventLog eventLog,
    PluginHookWakeups wakeups,
    IOptions<PluginHookOptions> options,
    IOptions<RoutingOptions> routing,
    TimeProvider time,
    ILogger<AfterMessageHookGrain> logger) : Grain, IAfterMessageHookGrain, IRemindable
{
    private const string KeepAliveReminder = "after-message-hook";
    private const int BatchSize = 200;
    private static readonly string[] Types = [EventTypes.MessageCreated];

    private EventLogPump? _pump;

    private string Tenant => this.GetPrimaryKeyString();

    private EventLogPump Pump => _pump ??= new(wakeups, Tenant, PumpAsync);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.StartedAt is not null && !state.State.Stopped)
        {
            StartPump();
        }

        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _pump?.Stop();
        return Task.CompletedTask;
    }

    public async Task Start()
    {
        var s = state.State;
        if (s.StartedAt is null || s.Stopped)
        {
            s.StartedAt = time.GetUtcNow();
            s.Stopped = false;
            await state.WriteStateAsync();
        }

        if (await this.GetReminder(KeepAliveReminder) is null)
        {
            await this.RegisterOrUpdateReminder(KeepAliveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        }

        StartPump();
        Pump.Wake(mayStart: true);
    }

    public Task Poke() => PumpAsync();

    public async Task Rewind(long cursor)
    {
        state.State.Cursor = Math.Max(0, cursor);
        await state.WriteStateAsync();
        await PumpAsync();
    }

    public Task<AfterMessageHookStatus> GetStatus() =>
        Task.FromResult(new AfterMessageHookStatus(state.State.Cursor, state.State.StartedAt, state.State.Handled, state.State.Failed));

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask; // activation is the point

    private void StartPump()
    {
        var self = this.AsReference<IAfterMessageHookGrain>();
        Pump.Start(this, () => self.Poke().Ignore(), options.Value.PollInterval, Types.ToHashSet(StringComparer.Ordinal));
    }

    private Task PumpAsync() => Pump.DrainPagesAsync(() => state.State.StartedAt is not null && !state.State.Stopped, StepAsync, ex => LogPumpFailed(logger, ex, Tenant));

    /// <summary>One page: its visitor messages handled, the cursor stored. True when the page was full (more may follow).</summary>
    private async Task<bool> StepAsync()
    {
        var s = state.State;
        var page = await eventLog.ReadAsync(Tenant, s.Cursor, Types, BatchSize);
        var news = page.Events.Where(e => e.Time >= s.StartedAt!.Value).Select(Message).Where(m => m is not null).ToArray();
        if (news.Length > 0)
        {
            var hooks = await GrainFactory.GetGrain<IPluginRegistryGrain>(Tenant).GetHooks();
            if (hooks.AfterMessage.Length == 0)
            {
                await StopAsync(page.Next);
                return false;
            }

            foreach (var message in news)
            {
                await HandleAsync(message!, hooks.AfterMessage);
            }
        }

        if (page.Next != s.Cursor || news.Length > 0)
        {
            s.Cursor = page.Next;
            await state.WriteStateAsync();
        }

        return page.Events.Length == BatchSize;
    }

    /// <summary>No after_message plugin any more: stop reading (the registry starts it again when one comes).</summary>
    private async Task StopAsync(long cursor)
    {
        state.State.Cursor = cursor;
        state.State.Stopped = true;
        await state.WriteStateAsync();
        if (await this.GetReminder(KeepAliveReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }

        _pump?.Stop();
        DeactivateOnIdle();
    }

    private async Task HandleAsync(VisitorMessage message, PluginHookEntry[] plugins)
    {
        var summary = await GrainFactory.GetGrain<IConversationGrain>(Tenancy.Key(Tenant, message.ConversationId)).GetSummary();
        var input = Input(message, summary?.Inbox ?? Tenancy.DefaultInbox);
        foreach (var entry in plugins)
        {
            var result = await GrainFactory.GetGrain<IPluginGrain>($"{Tenant}/{entry.Name}").Call(new PluginCall(PluginHooks.AfterMessage, input, Deadline: null));
            if (!result.Ok)
            {
                state.State.Failed++;
                continue; // the plugin's grain logged it; the same input would fail the same way
            }

            var caller = Caller.ForRule(Tenant, Causation.OfRule("plugin:" + entry.Name, message.EventId, message.Depth), routing.Value.BotName);
            var actions = new ConversationRouteActions(GrainFactory, eventLog, Tenant, caller, time);
            for (var i = 0; i < result.Actions.Length; i++)
            {
                if (await ApplyAsync(actions, message, entry.Name, i, result.Actions[i]) is { } error)
                {
                    state.State.Failed++;
                    LogActionFailed(logger, Tenant, entry.Name, result.Actions[i].Kind, error.Code);
                }
            }

            state.State.Handled++;
        }
    }

    private static async Task<KefuError?> ApplyAsync(ConversationRouteActions actions, VisitorMessage message, string plugin, int index, PluginAction action)
    {
        using var json = JsonDocument.Parse(action.Json);
        var root = json.RootElement;
        string Field(string name) => root.GetProperty(name).GetString()!;
        return action.Kind switch
        {
            PluginActionKinds.Tag => await actions.TagAsync(message.ConversationId, [Field("tag")], CancellationToken.None),
            PluginActionKinds.Reply => await actions.ReplyAsync(message.ConversationId, ClientMsgId(message.EventId, plugin, index), Field("text"), CancellationToken.None),
            PluginActionKinds.SetAttribute => await actions.SetAttributeAsync(null, message.ConversationId, Field("key"), Field("value"), CancellationToken.None),
            PluginActionKinds.Emit => await actions.EmitPluginAsync(EventId(message, plugin, index), plugin, Field("name"),
                root.TryGetProperty("data", out var data) ? data.GetRawText() : "{}", message.ConversationId, CancellationToken.None),
            _ => null, // the output reader allows nothing else at after_message
        };
    }

    /// <summary>The same for the same event, plugin and action (at most 64 characters, as client message ids are).</summary>
    public static string ClientMsgId(string eventId, string plugin, int index)
    {
        var key = $"{eventId}:{plugin}:{index}";
        return key.Length <= 64 ? key : $"{eventId}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(plugin)))[..16]}:{index}";
    }

    private static Ulid EventId(VisitorMessage message, string plugin, int index)
    {
        var random = SHA256.HashData(Encoding.UTF8.GetBytes($"{message.EventId}:plugin:{plugin}:{index}"));
        return Ulid.NewUlid(message.Time, random.AsSpan(0, 10));
    }

    private static string Input(VisitorMessage message, string inbox) => new JsonObject
    {
        ["message"] = new JsonObject
        {
            ["conversation_id"] = message.ConversationId,
            ["inbox"] = inbox,
            ["text"] = message.Text,
            ["sender"] = new JsonObject { ["role"] = "visitor", ["id"] = message.VisitorId },
            ["message_id"] = message.MessageId,
            ["seq"] = message.Seq,
        },
    }.ToJsonString();

    /// <summary>A visitor's message out of its message.created event; null for anyone else's (agents, bots, the system).</summary>
    private static VisitorMessage? Message(StoredEvent e)
    {
        using var document = JsonDocument.Parse(e.DataJson);
        if (e.ConversationId is not { } conversationId
            || !document.RootElement.TryGetProperty("message", out var m) || m.ValueKind != JsonValueKind.Object
            || !m.TryGetProperty("sender", out var sender) || sender.ValueKind != JsonValueKind.Object
            || !sender.TryGetProperty("role", out var role) || role.GetString() != "visitor")
        {
            return null;
        }

        string Str(JsonElement element, string name) => element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
        return new VisitorMessage(e.Id.ToString(), conversationId, Str(m, "messageId"), m.TryGetProperty("seq", out var seq) ? seq.GetInt64() : e.Seq,
            Str(m, "text"), Str(sender, "id"), e.Time, e.Causation.Depth);
    }

    private sealed record VisitorMessage(string EventId, string ConversationId, string MessageId, long Seq, string Text, string VisitorId, DateTimeOffset Time, int Depth);

    [LoggerMessage(Level = LogLevel.Warning, Message = "after_message of tenant {Tenant} failed; it tries again from its cursor")]
    private static partial void LogPumpFailed(ILogger logger, Exception exception, string tenant);

    [LoggerMessage(Level = LogLevel.Warning, Message = "after_message plugin {Tenant}/{Plugin}: its {Action} action was refused ({Code})")]
    private static partial void LogActionFailed(ILogger logger, string tenant, string plugin, string action, string code);
}
