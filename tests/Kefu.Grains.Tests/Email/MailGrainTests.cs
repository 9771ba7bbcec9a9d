using System.Collections.Concurrent;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Grains.Email;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Kefu.Grains.Tests.Email;

/// <summary>
/// A silo on a fake clock with a scripted <see cref="IMailSender"/> (the seam behind MailKit: the SMTP side itself is
/// tested against a real server in the gateway tests), so the grains' own decisions are tested in isolation.
/// </summary>
public sealed class MailGrainFixture : IAsyncLifetime
{
    private InProcessTestCluster? _cluster;

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public ScriptedSender Sender { get; } = new();

    public IClusterClient Client => (_cluster ?? throw new InvalidOperationException("The cluster is not started.")).Client;

    public IEventLog EventLog => _cluster!.Silos[0].ServiceProvider.GetRequiredService<IEventLog>();

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Kefu:Mail:Smtp:Host"] = "127.0.0.1",
            ["Kefu:Mail:From"] = "help@acme.example",
            ["Kefu:Mail:Retry:BaseDelay"] = "00:00:00.050",
            ["Kefu:Mail:Retry:MaxDelay"] = "00:00:00.100",
            ["Kefu:Mail:Retry:MaxAttempts"] = "3",
        };
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<TimeProvider>(Clock);
            silo.Services.AddSingleton<IMailSender>(Sender);
            silo.AddKefuGrains(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

/// <summary>Answers each mail (by recipient) with the outcomes a test scripted, then "sent"; counts what it was given.</summary>
public sealed class ScriptedSender : IMailSender
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<MailAttemptResult>> _scripts = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, int> Calls { get; } = new(StringComparer.Ordinal);

    public void Script(string to, params MailAttemptResult[] results) => _scripts[to] = new ConcurrentQueue<MailAttemptResult>(results);

    public Task<MailAttemptResult> SendAsync(MailEnvelope envelope, CancellationToken cancellationToken)
    {
        Calls.AddOrUpdate(envelope.Mail.To, 1, (_, n) => n + 1);
        return Task.FromResult(_scripts.TryGetValue(envelope.Mail.To, out var script) && script.TryDequeue(out var result)
            ? result
            : new MailAttemptResult(MailAttemptOutcome.Sent));
    }
}

/// <summary>The outbound mail grain's life (retries, giving up, bounces, idempotence) and the offline-reply debounce on the fake clock.</summary>
public sealed class MailGrainTests(MailGrainFixture fixture) : IClassFixture<MailGrainFixture>
{
    private static OutboundMail Mail(string to, string subject = "Hello") =>
        new(MailKinds.Transcript, Ulid.NewUlid().ToString(), to, null, subject, "text", "<p>html</p>", null, null, []);

    private async Task<OutboundMailView> WaitForAsync(IOutboundMailControl grain, Func<OutboundMailView, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            if (await grain.Get() is { } view && condition(view))
            {
                return view;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for the mail to be {what}");
            fixture.Clock.Advance(TimeSpan.FromSeconds(1)); // whichever clock the grain timer follows, the backoff passes
            await Task.Delay(20);
        }
    }

    private async Task<StoredEvent> EventAsync(string tenant, string type, string mailId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var page = await fixture.EventLog.ReadAsync(tenant, 0, [type], 100);
            if (page.Events.FirstOrDefault(e => e.DataJson.Contains(mailId, StringComparison.Ordinal)) is { } found)
            {
                return found;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {type} of {mailId}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_mail_the_server_refuses_for_now_is_retried_and_sent_once()
    {
        var tenant = Infrastructure.Scenario.NewTenant();
        var to = $"retry-{Guid.NewGuid():N}@example.com";
        fixture.Sender.Script(to, new MailAttemptResult(MailAttemptOutcome.Retry, "SMTP 451: later"), new MailAttemptResult(MailAttemptOutcome.Retry, "connection refused"));
        var mailId = Ulid.NewUlid().ToString();
        var grain = fixture.Client.GetGrain<IOutboundMailControl>(MailIds.Key(tenant, mailId));

        var first = await grain.Enqueue(Mail(to));
        Assert.Equal(MailStates.Pending, first.State);
        var sent = await WaitForAsync(grain, v => v.State == MailStates.Sent, "sent");
        Assert.Equal(3, sent.Attempts);
        Assert.Null(sent.LastError);
        Assert.Equal(3, fixture.Sender.Calls[to]);

        // The same id again (a replayed cause) is the same mail: nothing new is sent.
        var again = await grain.Enqueue(Mail(to, "Another subject"));
        Assert.Equal(MailStates.Sent, again.State);
        Assert.Equal(3, fixture.Sender.Calls[to]);
        var e = await EventAsync(tenant, EventTypes.EmailSent, mailId);
        Assert.Contains("\"subject\":\"Hello\"", e.DataJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_mail_that_keeps_failing_is_given_up_after_the_attempts_with_email_failed()
    {
        var tenant = Infrastructure.Scenario.NewTenant();
        var to = $"down-{Guid.NewGuid():N}@example.com";
        var down = new MailAttemptResult(MailAttemptOutcome.Retry, "connection refused");
        fixture.Sender.Script(to, down, down, down, down);
        var mailId = Ulid.NewUlid().ToString();
        var grain = fixture.Client.GetGrain<IOutboundMailControl>(MailIds.Key(tenant, mailId));
        await grain.Enqueue(Mail(to));

        var failed = await WaitForAsync(grain, v => v.State == MailStates.Failed, "failed");
        Assert.Equal(3, failed.Attempts);
        Assert.Equal("connection refused", failed.LastError);
        var e = await EventAsync(tenant, EventTypes.EmailFailed, mailId);
        Assert.Contains("\"attempts\":3", e.DataJson, StringComparison.Ordinal);
        Assert.Contains("\"bounced\":false", e.DataJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bounce_fails_a_sent_mail_once_and_an_unknown_mail_is_ignored()
    {
        var tenant = Infrastructure.Scenario.NewTenant();
        var to = $"bounce-{Guid.NewGuid():N}@example.com";
        var mailId = Ulid.NewUlid().ToString();
        var control = fixture.Client.GetGrain<IOutboundMailControl>(MailIds.Key(tenant, mailId));
        await control.Enqueue(Mail(to));
        await WaitForAsync(control, v => v.State == MailStates.Sent, "sent");

        var bounced = fixture.Client.GetGrain<IOutboundMailGrain>(MailIds.Key(tenant, mailId));
        await bounced.Bounced("550 5.1.1 mailbox unknown");
        await bounced.Bounced("550 5.1.1 mailbox unknown"); // the same DSN delivered twice
        var view = (await control.Get())!;
        Assert.Equal((MailStates.Failed, true, "550 5.1.1 mailbox unknown"), (view.State, view.Bounced, view.LastError));
        await EventAsync(tenant, EventTypes.EmailFailed, mailId);
        var page = await fixture.EventLog.ReadAsync(tenant, 0, [EventTypes.EmailFailed], 100);
        Assert.Single(page.Events, x => x.DataJson.Contains(mailId, StringComparison.Ordinal));

        await fixture.Client.GetGrain<IOutboundMailGrain>(MailIds.Key(tenant, Ulid.NewUlid().ToString())).Bounced("who?");
    }

    [Fact]
    public async Task Agent_replies_push_the_offline_mail_back_but_never_past_twice_the_wait()
    {
        var tenant = Infrastructure.Scenario.NewTenant();
        var thread = fixture.Client.GetGrain<IMailThreadGrain>(Tenancy.Key(tenant, Ulid.NewUlid().ToString()));
        var after = new MailOptions().OfflineReplyAfter; // the default: 2 minutes
        var start = fixture.Clock.GetUtcNow();

        await thread.AgentReplied(1);
        Assert.Equal(start + after, (await thread.GetStatus()).DueAt);

        fixture.Clock.Advance(TimeSpan.FromSeconds(90));
        await thread.AgentReplied(2);
        var status = await thread.GetStatus();
        Assert.Equal(start + TimeSpan.FromSeconds(90) + after, status.DueAt);
        Assert.Equal(1, status.PendingFromSeq);

        fixture.Clock.Advance(TimeSpan.FromSeconds(90));
        await thread.AgentReplied(3);
        Assert.Equal(start + after + after, (await thread.GetStatus()).DueAt); // the ceiling

        await thread.AgentReplied(2); // a replayed event
        status = await thread.GetStatus();
        Assert.Equal((3L, 1L), (status.AgentSeq, status.PendingFromSeq!.Value));
    }
}
