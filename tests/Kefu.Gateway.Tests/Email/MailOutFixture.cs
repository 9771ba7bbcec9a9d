using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Email;

/// <summary>
/// A gateway that sends mail to a <see cref="MailSink"/> on loopback, with short waits: an offline reply is due 300 ms
/// after the agent's message, retries come within a few hundred milliseconds. Nobody staffs the default inbox (new
/// conversations notify opted-in agents only when no agent is online).
/// </summary>
public sealed class MailOutFixture : GatewayFixture, IAsyncLifetime
{
    public const string TokenKey = "mail-test-token-key-0123456789abcdef";
    public const string ReplyDomain = "reply.kefu.test";

    public MailSink Sink { get; } = MailSink.Start();

    protected override bool StaffDefaultInbox => false;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Kefu:Mail:Smtp:Host"] = "127.0.0.1",
        ["Kefu:Mail:Smtp:Port"] = Sink.Port.ToString(CultureInfo.InvariantCulture),
        ["Kefu:Mail:Smtp:Security"] = "none",
        ["Kefu:Mail:Smtp:Timeout"] = "00:00:05",
        ["Kefu:Mail:From"] = "Kefu Test <support@kefu.test>",
        ["Kefu:Mail:ReplyDomain"] = ReplyDomain,
        ["Kefu:Mail:TokenKey"] = TokenKey,
        ["Kefu:Mail:OfflineReplyAfter"] = "00:00:00.300",
        ["Kefu:Mail:PollInterval"] = "00:00:00.200",
        ["Kefu:Mail:TranscriptInterval"] = "00:00:30",
        ["Kefu:Mail:Retry:BaseDelay"] = "00:00:00.100",
        ["Kefu:Mail:Retry:MaxDelay"] = "00:00:00.300",
        ["Kefu:Mail:Retry:MaxAttempts"] = "30",
        ["Kefu:Mail:ConsoleUrl"] = "https://kefu.test/console/",
    };

    public async Task<HttpClient> AdminAsync() => Http(await LoginAsync());

    /// <summary>A new inbox (optionally with transcripts on resolve) and its widget key.</summary>
    public async Task<(string InboxId, string PublicKey)> InboxAsync(bool transcriptOnResolve = false)
    {
        var inboxId = "mail-" + Guid.NewGuid().ToString("N")[..8];
        using var admin = await AdminAsync();
        var inbox = await Desk.Ok(await admin.PutAsJsonAsync($"/api/v1/inboxes/{inboxId}",
            new { name = "Acme " + inboxId, assignmentPolicy = "manual", email = new { transcriptOnResolve } }));
        return (inboxId, inbox.Str("publicKey")!);
    }

    /// <summary>A visitor who left a message (name, email, locale) and went away: the conversation and the visitor's token.</summary>
    public async Task<(string ConversationId, string Token)> LeftMessageAsync(string publicKey, string name, string email, string text, string locale = "en")
    {
        using var http = Http();
        var response = await http.PostAsJsonAsync($"/api/v1/widget/{publicKey}/messages", new { name, email, text, locale });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (body.Str("conversationId")!, body.Str("token")!);
    }

    /// <summary>The admin joins the conversation over a WebSocket and writes <paramref name="texts"/> (then disconnects).</summary>
    public async Task ReplyAsync(string conversationId, params string[] texts)
    {
        await using var admin = await ConnectAsync(await LoginAsync());
        await admin.SendAsync(new { type = "join", conversationId });
        await admin.ReceiveUntilAsync("joined", f => f.Str("conversationId") == conversationId);
        foreach (var text in texts)
        {
            await admin.SendMessageAsync(text, conversationId);
        }
    }

    /// <summary>Events of <paramref name="type"/> in the default tenant whose data names <paramref name="mailId"/>, once there is one.</summary>
    public async Task<JsonElement> WaitForEventAsync(string type, Func<JsonElement, bool> match, string what)
    {
        using var admin = await AdminAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var page = await Desk.Ok(await admin.GetAsync($"/api/v1/events?types={type}&limit=500"));
            var found = page.GetProperty("events").EnumerateArray().Where(e => match(e.GetProperty("data"))).ToList();
            if (found.Count > 0)
            {
                return found[0];
            }

            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {type}: {what}");
            await Task.Delay(50);
        }
    }

    Task IAsyncLifetime.InitializeAsync() => InitializeAsync();

    // Re-implemented so the sink stops with the gateway (the base's DisposeAsync is not virtual).
    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await Sink.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class MailOutCollection : ICollectionFixture<MailOutFixture>
{
    public const string Name = "mail-out-gateway";
}
