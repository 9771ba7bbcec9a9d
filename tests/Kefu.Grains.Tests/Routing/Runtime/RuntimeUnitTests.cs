using System.Net;
using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Routing;
using Kefu.Grains.Routing.Runtime;
using Polly;
using static Kefu.Grains.Tests.Routing.Runtime.Rules;

namespace Kefu.Grains.Tests.Routing.Runtime;

/// <summary>The runtime's plain rules: budgets, keys, retry decisions, once_per/cooldown, listened types, inbox hours.</summary>
public sealed class RuntimeUnitTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 3, 0, 0, TimeSpan.Zero);

    private static RuleSet RuleSetWith(params RouteSpec[] routes) =>
        new(1, RoutingDefaults.Standard, new Dictionary<string, ConnectorSpec>(), new Dictionary<string, IntentSpec>(), routes, "h");

    [Fact]
    public void The_budget_is_the_route_timeout_or_the_default_deadline_cut_by_the_events_own_deadline()
    {
        var route = Route("r", "x");
        var e = RoutingEvent.Synthetic("t", "x", "{}", null, null, Now);

        Assert.Equal(TimeSpan.FromSeconds(10), RouteRunner.Budget(RuleSetWith(route), route, e, Now));
        Assert.Equal(TimeSpan.FromSeconds(3), RouteRunner.Budget(RuleSetWith(route), route with { Timeout = TimeSpan.FromSeconds(3) }, e, Now));
        Assert.Equal(TimeSpan.FromMilliseconds(500), RouteRunner.Budget(RuleSetWith(route), route, e with { Deadline = Now.AddMilliseconds(500) }, Now));
        Assert.True(RouteRunner.Budget(RuleSetWith(route), route, e with { Deadline = Now.AddSeconds(-1) }, Now) <= TimeSpan.Zero);
    }

    [Fact]
    public void Step_keys_and_derived_event_ids_are_the_same_on_every_run_and_fit_a_client_message_id()
    {
        var e = RoutingEvent.Synthetic("t", "x", "{}", null, null, Now);
        var longRoute = new string('r', 80);

        Assert.Equal($"{e.EventId}:order-sync:1", RouteRunner.StepKey(e.EventId, "order-sync", 1));
        Assert.Equal(RouteRunner.StepKey(e.EventId, longRoute, 0), RouteRunner.StepKey(e.EventId, longRoute, 0));
        Assert.InRange(RouteRunner.StepKey(e.EventId, longRoute, 0).Length, 1, 64);
        Assert.Equal(RouteRunner.EventIdFor(e, "r", "executed"), RouteRunner.EventIdFor(e, "r", "executed"));
        Assert.NotEqual(RouteRunner.EventIdFor(e, "r", "executed"), RouteRunner.EventIdFor(e, "r", "emit:0"));
    }

    [Theory]
    [InlineData(500, null, 2000, true)]
    [InlineData(503, null, 2000, true)]
    [InlineData(408, null, 2000, true)]
    [InlineData(429, 1, 2000, true)]
    [InlineData(429, 5, 2000, false)] // Retry-After past the deadline: no point waiting for it
    [InlineData(404, null, 2000, false)]
    [InlineData(400, null, 2000, false)]
    [InlineData(500, null, 1, false)] // no time left
    public void Retries_are_for_408_429_and_5xx_while_time_is_left(int status, int? retryAfterSeconds, int leftMs, bool retried)
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status);
        if (retryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(seconds));
        }

        Assert.Equal(retried, RoutingConnector.ShouldRetry(Outcome.FromResult(response), TimeSpan.FromMilliseconds(leftMs)));
    }

    [Fact]
    public void Network_errors_and_attempt_timeouts_are_retried_other_exceptions_are_not()
    {
        var left = TimeSpan.FromSeconds(2);
        Assert.True(RoutingConnector.ShouldRetry(Outcome.FromException<HttpResponseMessage>(new HttpRequestException("refused")), left));
        Assert.True(RoutingConnector.ShouldRetry(Outcome.FromException<HttpResponseMessage>(new AttemptTimeoutException(TimeSpan.FromSeconds(1))), left));
        Assert.False(RoutingConnector.ShouldRetry(Outcome.FromException<HttpResponseMessage>(new InvalidOperationException()), left));
    }

    [Fact]
    public void Once_per_conversation_and_cooldown_let_a_rerun_of_the_same_event_through()
    {
        var last = new RouteRun("e1", Now);

        Assert.True(RouteRunRules.MayRun(null, "e1", oncePerConversation: true, null, Now));
        Assert.True(RouteRunRules.MayRun(last, "e1", oncePerConversation: true, null, Now.AddDays(1)));
        Assert.False(RouteRunRules.MayRun(last, "e2", oncePerConversation: true, null, Now.AddDays(1)));
        Assert.False(RouteRunRules.MayRun(last, "e2", oncePerConversation: false, TimeSpan.FromMinutes(10), Now.AddMinutes(9)));
        Assert.True(RouteRunRules.MayRun(last, "e2", oncePerConversation: false, TimeSpan.FromMinutes(10), Now.AddMinutes(10)));
    }

    [Fact]
    public void The_router_reads_inbound_types_as_inbound_received_and_moves_on_when_nothing_is_listened_to()
    {
        Assert.Equal(["custom.ping", EventTypes.InboundReceived, EventTypes.MessageCreated],
            RoutingRouterGrain.TypesToRead(new HashSet<string> { "order_status", "message.created", "custom.ping", "refund" }).Order(StringComparer.Ordinal));
        Assert.Equal(["-"], RoutingRouterGrain.TypesToRead(new HashSet<string>()));
    }

    [Fact]
    public void Inbox_hours_are_open_without_hours_or_configuration_and_by_the_week_otherwise()
    {
        var monday = new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero); // a Monday
        var hours = InboxHours.Of(
        [
            new InboxConfig("always", "Always", "k1", "round_robin", null, [], null, null, null, false),
            new InboxConfig("weekdays", "Weekdays", "k2", "round_robin", null, [], new BusinessHours("UTC", [new BusinessDay(DayOfWeek.Monday, new TimeOnly(9, 0), new TimeOnly(17, 0))]), null, null, false),
        ]);

        Assert.True(hours.IsOpen("always", monday));
        Assert.True(hours.IsOpen("weekdays", monday));
        Assert.False(hours.IsOpen("weekdays", monday.AddHours(8)));
        Assert.True(hours.IsOpen("default", monday)); // never configured: open, as for the away message
    }

    [Fact]
    public void The_protobuf_envelope_carries_the_rule_causation()
    {
        var cause = Causation.OfRule("order-sync", "01JEVENT", 1);
        var stored = new StoredEvent(1, Ulid.NewUlid(), "custom.ping", "t", null, 0, Now, cause, "{}");

        var proto = EventProto.ToProto(stored);

        Assert.Equal((2u, "01JEVENT"), (proto.Causation.Depth, proto.Causation.TriggerEventId));
    }
    [Fact]
    public void A_router_is_woken_only_by_types_it_reads_and_once_until_it_reads_again()
    {
        var wakeups = new RoutingWakeups();
        var pokes = 0;
        var registration = wakeups.Register("t", () => pokes++);
        registration.Types = new HashSet<string> { EventTypes.InboundReceived };
        var message = new DomainEvent(Ulid.NewUlid(), "t", "c", 1, Now, Causation.Of("x"), new CustomEvent("custom.other", "{}"));
        var inbound = new DomainEvent(Ulid.NewUlid(), "t", null, 0, Now, Causation.Of("x"), new InboundReceived("s", "order_status", null, null, "{}"));

        wakeups.Notify("t", [message]);
        Assert.Equal(0, pokes);
        wakeups.Notify("t", [message, inbound]);
        wakeups.Notify("t", [inbound]);
        Assert.Equal(1, pokes);
        registration.Reset();
        wakeups.Notify("t", [inbound]);
        wakeups.Notify("other", [inbound]);
        Assert.Equal(2, pokes);
    }
}
