using System.Net;
using System.Net.Http.Headers;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Grains.Webhooks;

namespace Kefu.Grains.Tests.Webhooks;

/// <summary>The plain rules of outbound webhooks: schedule, Retry-After, the events filter, validation and the SSRF guard; no cluster.</summary>
public sealed class WebhookRulesTests
{
    private static readonly TimeSpan[] Schedule = WebhookOptions.ParseSchedule(WebhookOptions.DefaultRetrySchedule);
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_default_schedule_is_the_documented_one()
    {
        Assert.Equal(
            [TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2), TimeSpan.FromHours(5),
             TimeSpan.FromHours(10), TimeSpan.FromHours(14), TimeSpan.FromHours(20), TimeSpan.FromHours(24)],
            Schedule);
        Assert.Equal([TimeSpan.FromMilliseconds(250), TimeSpan.FromDays(1.5)], WebhookOptions.ParseSchedule(" 250ms , 1.5d "));
        Assert.Throws<FormatException>(() => WebhookOptions.ParseSchedule("5"));
        Assert.Throws<FormatException>(() => WebhookOptions.ParseSchedule("5x"));
    }

    [Fact]
    public void Each_failed_attempt_waits_its_scheduled_delay_within_the_jitter_and_the_last_is_final()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), WebhookRules.RetryDelay(1, Schedule, 0.1, null, TimeSpan.FromHours(24), random: 0.5));
        Assert.Equal(TimeSpan.FromSeconds(4.5), WebhookRules.RetryDelay(1, Schedule, 0.1, null, TimeSpan.FromHours(24), random: 0));
        Assert.Equal(TimeSpan.FromMinutes(5.5), WebhookRules.RetryDelay(2, Schedule, 0.1, null, TimeSpan.FromHours(24), random: 1));
        Assert.Equal(TimeSpan.FromHours(24), WebhookRules.RetryDelay(9, Schedule, 0, null, TimeSpan.FromHours(24), random: 0.3));
        Assert.Null(WebhookRules.RetryDelay(10, Schedule, 0.1, null, TimeSpan.FromHours(24), random: 0.5));
    }

    [Fact]
    public void Retry_after_delays_a_retry_but_never_brings_it_forward_and_is_capped()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), WebhookRules.RetryDelay(1, Schedule, 0, TimeSpan.FromSeconds(30), TimeSpan.FromHours(24), 0.5));
        Assert.Equal(TimeSpan.FromMinutes(5), WebhookRules.RetryDelay(2, Schedule, 0, TimeSpan.FromSeconds(1), TimeSpan.FromHours(24), 0.5));
        Assert.Equal(TimeSpan.FromHours(1), WebhookRules.RetryDelay(1, Schedule, 0, TimeSpan.FromDays(7), TimeSpan.FromHours(1), 0.5));
        Assert.Equal(TimeSpan.FromSeconds(120), WebhookRules.RetryAfter(new RetryConditionHeaderValue(TimeSpan.FromSeconds(120)), Now));
        Assert.Equal(TimeSpan.FromMinutes(2), WebhookRules.RetryAfter(new RetryConditionHeaderValue(Now.AddMinutes(2)), Now));
        Assert.Equal(TimeSpan.Zero, WebhookRules.RetryAfter(new RetryConditionHeaderValue(Now.AddMinutes(-2)), Now));
        Assert.Null(WebhookRules.RetryAfter(null, Now));
    }

    [Fact]
    public void Notes_are_read_only_when_named()
    {
        Assert.Null(WebhookRules.TypesToRead(["*"]));
        Assert.Equal(EventTypes.All, WebhookRules.TypesToRead(["*", "note.created"])!);
        Assert.Equal(["message.created", "note.created"], WebhookRules.TypesToRead(["message.created", "note.created", "message.created"])!);
    }

    [Fact]
    public void Endpoints_are_validated()
    {
        var endpoint = new WebhookEndpoint("01", "https://erp.example.com/kefu", ["*"], null, null, true, null, Now, Now);
        Assert.Null(WebhookRules.Validate(endpoint, allowPrivateTargets: false));
        Assert.Equal("invalid_field", WebhookRules.Validate(endpoint with { Events = [] }, false)?.Code);
        Assert.Equal("invalid_field", WebhookRules.Validate(endpoint with { Events = ["order.shipped"] }, false)?.Code);
        Assert.Equal("invalid_field", WebhookRules.Validate(endpoint with { Url = "https://user:pw@erp.example.com/" }, false)?.Code);
        Assert.Equal("invalid_field", WebhookRules.Validate(endpoint with { Url = "/relative" }, false)?.Code);
        Assert.Equal("invalid_field", WebhookRules.Validate(endpoint with { Description = new string('d', 501) }, false)?.Code);
        Assert.Equal("private_target", WebhookRules.Validate(endpoint with { Url = "http://127.0.0.1:8080/" }, false)?.Code);
        Assert.Null(WebhookRules.Validate(endpoint with { Url = "http://127.0.0.1:8080/" }, allowPrivateTargets: true));

        var patched = WebhookRules.Apply(endpoint, new WebhookEndpointPatch(Inboxes: [], Enabled: false), false, Now.AddMinutes(1)).Value!;
        Assert.Null(patched.Inboxes);
        Assert.False(patched.Enabled);
        Assert.NotNull(patched.DisabledReason);
        Assert.Null(WebhookRules.Apply(patched, new WebhookEndpointPatch(Enabled: true), false, Now).Value!.DisabledReason);
    }

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("::", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd12:3456::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("93.184.216.34", true)]
    [InlineData("172.32.0.1", true)]
    [InlineData("2606:4700::1111", true)]
    public void Addresses_are_public_or_not(string address, bool expected) =>
        Assert.Equal(expected, WebhookTargets.IsPublic(IPAddress.Parse(address)));

    [Fact]
    public async Task A_name_that_resolves_to_loopback_is_refused_when_connecting()
    {
        using var http = new HttpClient(new SocketsHttpHandler { ConnectCallback = (c, ct) => WebhookTargets.ConnectAsync(c, allowPrivate: false, ct) });
        var error = await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetAsync("http://localhost:9/"));
        Assert.IsType<PrivateTargetException>(error.InnerException);
    }
}
