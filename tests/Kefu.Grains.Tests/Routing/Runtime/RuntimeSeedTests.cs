using System.Text;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Grains.Routing.Runtime;
using Kefu.Grains.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static Kefu.Grains.Tests.Routing.Runtime.Rules;

namespace Kefu.Grains.Tests.Routing.Runtime;

/// <summary>
/// The seed's file (config/routing.yaml, INTEGRATION.md §6) as written, compiled by the real compiler, run at grain level
/// against a loopback ERP: the call with the data, the reply <c>您的订单#12345已更新</c>, the deadline, the retries; and the
/// file loader keeping the last good rules when the file turns invalid.
/// </summary>
public sealed class RuntimeSeedTests(RoutingRuntimeFixture fixture) : IClassFixture<RoutingRuntimeFixture>
{
    private IClusterClient Client => fixture.Client;

    /// <summary>The repository's config/routing.yaml with its connector pointed at the loopback ERP under <paramref name="prefix"/>.</summary>
    public static string SeedFile(Uri erp, string prefix)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "config", "routing.yaml")))
        {
            directory = directory.Parent;
        }

        var text = File.ReadAllText(Path.Combine(directory!.FullName, "config", "routing.yaml"));
        Assert.Contains("http://localhost:9100", text, StringComparison.Ordinal);
        return text.Replace("http://localhost:9100", erp.ToString().TrimEnd('/') + "/" + prefix, StringComparison.Ordinal);
    }

    private async Task<(ErpScript Erp, string ConversationId, IConversationGrain Conversation, TestVisitor Visitor, string Tenant)> SeedAsync(Func<ErpRequest, int, ErpAnswer>? script = null)
    {
        var tenant = Scenario.NewTenant();
        var prefix = Scenario.NewId("seed");
        var erp = fixture.Erp.Handle(prefix, script);
        var set = await Client.GetGrain<IRoutingRulesGrain>(tenant).Set(SeedFile(fixture.Erp.BaseUrl, prefix), RoutingSources.Api, Admin with { Tenant = tenant });
        Assert.True(set.Succeeded, string.Join("; ", set.Problems.Select(p => $"{p.Line}:{p.Column}: {p.Message}")));
        Assert.Equal(1, set.Rules!.RouteCount);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        return (erp, conversationId, conversation, visitor, tenant);
    }

    [Fact]
    public async Task The_seed_file_calls_the_erp_with_the_data_and_answers_the_customer()
    {
        var (erp, conversationId, conversation, visitor, tenant) = await SeedAsync();

        var eventId = await InboundAsync(Client, tenant, "order_status", """{"order_id":"12345","status":"shipped"}""", conversationId);

        var reply = Assert.Single(await Scenario.EventuallyAsync(() => BotMessagesAsync(conversation, visitor.Caller), m => m.Length > 0, "the bot reply"));
        Assert.Equal("您的订单#12345已更新", reply.Text);
        var call = Assert.Single(erp.Received);
        Assert.Equal("POST", call.Method);
        Assert.EndsWith("/orders/12345/sync", call.Path, StringComparison.Ordinal);
        var body = JsonDocument.Parse(call.Body).RootElement;
        Assert.Equal(("12345", "shipped"), (body.GetProperty("order_id").GetString(), body.GetProperty("status").GetString()));
        Assert.StartsWith(eventId + ":", call.IdempotencyKey, StringComparison.Ordinal);
        var executed = Assert.Single(await WaitForExecutionsAsync(Client, tenant, 1));
        Assert.Equal((RouteOutcomes.Succeeded, "order_status"), (executed.Outcome, executed.TriggerType));
    }

    [Fact]
    public async Task The_seed_route_gives_a_sleeping_erp_up_within_its_three_seconds()
    {
        var (erp, conversationId, conversation, visitor, tenant) = await SeedAsync((_, _) => new ErpAnswer(200, Delay: TimeSpan.FromSeconds(5)));

        await InboundAsync(Client, tenant, "order_status", """{"order_id":"12345"}""", conversationId);

        var executed = Assert.Single(await WaitForExecutionsAsync(Client, tenant, 1));
        Assert.Equal(RouteOutcomes.TimedOut, executed.Outcome);
        Assert.True(executed.ElapsedMs <= 3200, $"gave up after {executed.ElapsedMs} ms");
        Assert.InRange(erp.Received.Count, 1, 3);
        Assert.Empty(await BotMessagesAsync(conversation, visitor.Caller));
    }

    [Fact]
    public async Task The_seed_route_retries_two_server_errors_and_replies_once()
    {
        var (erp, conversationId, conversation, visitor, tenant) = await SeedAsync((_, attempt) => attempt < 3 ? new ErpAnswer(500) : ErpAnswer.Ok);

        await InboundAsync(Client, tenant, "order_status", """{"order_id":"12345"}""", conversationId);

        var executed = Assert.Single(await WaitForExecutionsAsync(Client, tenant, 1));
        Assert.Equal((RouteOutcomes.Succeeded, 3), (executed.Outcome, executed.Steps[0].Attempts));
        Assert.Equal(3, erp.Received.Count);
        Assert.Equal("您的订单#12345已更新", Assert.Single(await BotMessagesAsync(conversation, visitor.Caller)).Text);
    }

    [Fact]
    public async Task A_reply_reads_the_last_calls_answer()
    {
        var tenant = Scenario.NewTenant();
        var prefix = Scenario.NewId("p");
        fixture.Erp.Handle(prefix, (_, _) => new ErpAnswer(200, """{"eta":"明天"}"""));
        var yaml = $$"""
            connectors:
              ERP:
                kind: http
                baseUrl: "{{fixture.Erp.BaseUrl.ToString().TrimEnd('/')}}/{{prefix}}"
                operations:
                  eta: { method: POST, path: "/orders/{order_id}/eta" }
            routes:
              - id: eta
                on: [order_eta]
                actions:
                  - call: "ERP::eta"
                  - reply_template: "订单#{order_id}预计{eta}送达"
            """;
        var set = await Client.GetGrain<IRoutingRulesGrain>(tenant).Set(yaml, RoutingSources.Api, Admin with { Tenant = tenant });
        Assert.True(set.Succeeded, string.Join("; ", set.Problems.Select(p => $"{p.Line}:{p.Column}: {p.Message}")));
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        await InboundAsync(Client, tenant, "order_eta", """{"order_id":"7"}""", conversationId);

        var reply = Assert.Single(await Scenario.EventuallyAsync(() => BotMessagesAsync(conversation, visitor.Caller), m => m.Length > 0, "the bot reply"));
        Assert.Equal("订单#7预计明天送达", reply.Text);
    }

    [Fact]
    public async Task An_invalid_file_is_refused_and_the_last_good_rules_stay()
    {
        var tenant = Scenario.NewTenant();
        var directory = System.IO.Directory.CreateTempSubdirectory("kefu-routing-");
        var path = Path.Combine(directory.FullName, "routing.yaml");
        var good = SeedFile(fixture.Erp.BaseUrl, "unused");
        await File.WriteAllTextAsync(path, good, Encoding.UTF8);
        using var loader = new RoutingFileLoader(Client, Options.Create(new RoutingOptions { File = path, Tenant = tenant }), NullLogger<RoutingFileLoader>.Instance);
        var rules = Client.GetGrain<IRoutingRulesGrain>(tenant);
        try
        {
            Assert.True(await loader.LoadAsync());
            var before = await rules.Get();

            await File.WriteAllTextAsync(path, good.Replace("reply_template", "reply_templat", StringComparison.Ordinal), Encoding.UTF8);

            Assert.False(await loader.LoadAsync());
            Assert.Equal(before, await rules.Get());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
