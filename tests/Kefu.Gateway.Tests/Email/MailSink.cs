using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MimeKit;
using SmtpServer;
using SmtpServer.ComponentModel;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Kefu.Gateway.Tests.Email;

/// <summary>One mail as the sink received it: the SMTP envelope and the parsed message.</summary>
public sealed record CapturedMail(string EnvelopeFrom, string[] Recipients, MimeMessage Message)
{
    public string To => Recipients.Length > 0 ? Recipients[0] : "";
}

/// <summary>
/// A real SMTP server on a loopback port (the <c>SmtpServer</c> package) that keeps what it receives, for tests of
/// outgoing mail: no mock of MailKit, the bytes go over a socket. It can refuse mail (<see cref="RefuseNext"/>: a 4xx
/// or 5xx answer to the DATA) and be stopped and started again on the same port (an SMTP server that is down).
/// Self-contained (SmtpServer and MimeKit only) so other test projects can link it.
/// </summary>
public sealed class MailSink : IAsyncDisposable
{
    private readonly ConcurrentQueue<CapturedMail> _mails = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<int>> _refusals = new(StringComparer.OrdinalIgnoreCase);
    private CancellationTokenSource? _stop;
    private Task? _running;

    private MailSink(int port) => Port = port;

    public int Port { get; }

    public IReadOnlyCollection<CapturedMail> Mails => _mails;

    /// <summary>Refusals answered so far (for tests that wait for a retry).</summary>
    public int Refused { get; private set; }

    public static MailSink Start(int port = 0)
    {
        var sink = new MailSink(port == 0 ? FreePort() : port);
        sink.Resume();
        return sink;
    }

    /// <summary>
    /// The next <paramref name="times"/> mails to <paramref name="to"/> (null: to anyone) are answered with
    /// <paramref name="code"/> (e.g. 451 or 550).
    /// </summary>
    public void RefuseNext(int code, int times = 1, string? to = null)
    {
        var queue = _refusals.GetOrAdd(to ?? "", _ => new ConcurrentQueue<int>());
        for (var i = 0; i < times; i++)
        {
            queue.Enqueue(code);
        }
    }

    private bool TryRefuse(IEnumerable<string> recipients, out int code)
    {
        foreach (var recipient in recipients.Append(""))
        {
            if (_refusals.TryGetValue(recipient, out var queue) && queue.TryDequeue(out code))
            {
                return true;
            }
        }

        code = 0;
        return false;
    }

    /// <summary>Listens (again) on <see cref="Port"/>.</summary>
    public void Resume()
    {
        if (_running is not null)
        {
            return;
        }

        var options = new SmtpServerOptionsBuilder()
            .ServerName("mail-sink.test")
            .Endpoint(b => b.Endpoint(new IPEndPoint(IPAddress.Loopback, Port)).SessionTimeout(TimeSpan.FromSeconds(30)))
            .Build();
        var services = new ServiceProvider();
        services.Add(new Store(this));
        _stop = new CancellationTokenSource();
        _running = new SmtpServer.SmtpServer(options, services).StartAsync(_stop.Token);
    }

    /// <summary>Stops listening (connections are refused) until <see cref="Resume"/>.</summary>
    public async Task StopAsync()
    {
        if (_running is null)
        {
            return;
        }

        await _stop!.CancelAsync();
        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
        _running = null;
    }

    /// <summary>Waits (up to <paramref name="timeout"/>, default 20 s) for a mail that matches.</summary>
    public async Task<CapturedMail> WaitForAsync(Func<CapturedMail, bool> match, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            if (_mails.FirstOrDefault(match) is { } mail)
            {
                return mail;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No mail {what} arrived; the sink holds {_mails.Count}: {string.Join("; ", _mails.Select(m => m.To + " " + m.Message.Subject))}");
            }

            await Task.Delay(20);
        }
    }

    public IEnumerable<CapturedMail> To(string address) => _mails.Where(m => m.Recipients.Contains(address, StringComparer.OrdinalIgnoreCase));

    public async ValueTask DisposeAsync() => await StopAsync();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class Store(MailSink sink) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer,
            CancellationToken cancellationToken)
        {
            if (sink.TryRefuse(transaction.To.Select(t => $"{t.User}@{t.Host}"), out var code))
            {
                sink.Refused++;
                return new SmtpResponse((SmtpReplyCode)code, code >= 500 ? "no such mailbox here" : "try again later");
            }

            await using var stream = new MemoryStream(buffer.ToArray());
            var message = await MimeMessage.LoadAsync(stream, cancellationToken);
            var from = transaction.From is { } f ? $"{f.User}@{f.Host}" : "";
            sink._mails.Enqueue(new CapturedMail(from, [.. transaction.To.Select(t => $"{t.User}@{t.Host}")], message));
            return SmtpResponse.Ok;
        }
    }
}
