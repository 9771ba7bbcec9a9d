using System.Net;
using Kefu.Grains.Email;
using Microsoft.Extensions.Options;
using SmtpServer;

namespace Kefu.Gateway.Email;

/// <summary>
/// The built-in SMTP receiver for reply and bounce mail (docs/email-inbound.md), hosted in the gateway process when
/// <c>Kefu:Mail:Receiver:Port</c> is set. SmtpServer speaks the protocol; <see cref="MailReceiverFilter"/> decides at
/// RCPT TO, <see cref="MailReceiverStore"/> at the end of DATA.
/// </summary>
public sealed partial class MailReceiverService(
    IOptions<MailOptions> options, MailReceiverFilter filter, MailReceiverStore store, ILogger<MailReceiverService> logger) : IHostedService
{
    private SmtpServer.SmtpServer? _server;
    private Task? _running;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var mail = options.Value;
        var receiver = mail.Receiver;
        if (string.IsNullOrWhiteSpace(mail.ReplyDomain) || mail.TokenKeyBytes().Length < 32)
        {
            // Without a reply domain and a key no address can be checked: refusing every mail is all it could do.
            throw new InvalidOperationException(
                "Kefu:Mail:Receiver:Port is set, but Kefu:Mail:ReplyDomain and Kefu:Mail:TokenKey (at least 32 characters) are not.");
        }

        if (!IPAddress.TryParse(receiver.Address, out var address))
        {
            throw new InvalidOperationException($"Kefu:Mail:Receiver:Address must be an IP address (got '{receiver.Address}').");
        }

        var smtpOptions = new SmtpServerOptionsBuilder()
            .ServerName(mail.ReplyDomain)
            .CustomSmtpGreeting(_ => $"220 {mail.ReplyDomain} ESMTP") // the whole line, code included; not the library's name and version
            .Endpoint(e => e.Endpoint(new IPEndPoint(address, receiver.Port)).SessionTimeout(receiver.Timeout))
            .MaxMessageSize((int)Math.Min(receiver.MaxMessageBytes, int.MaxValue), MaxMessageSizeHandling.Strict)
            .CommandWaitTimeout(receiver.Timeout)
            .MaxRetryCount(5)
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(filter);
        services.Add(store);
        _server = new SmtpServer.SmtpServer(smtpOptions, services);
        _server.SessionFaulted += (_, e) => LogSessionFaulted(logger, e.Exception);
        _running = _server.StartAsync(CancellationToken.None);
        if (_running.IsFaulted)
        {
            // Bind failures (port taken) surface here, at start-up, not in a forgotten task.
            _running.GetAwaiter().GetResult();
        }

        // A later failure of the listener itself (not of one session) stops receiving: it must not pass unnoticed.
        _ = _running.ContinueWith(t => LogReceiverFailed(logger, t.Exception!), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

        LogListening(logger, receiver.Address, receiver.Port);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is null)
        {
            return;
        }

        // Stops accepting; sessions in progress finish (or the host's shutdown timeout ends the wait).
        _server.Shutdown();
        await _server.ShutdownTask.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_running is not null)
        {
            await _running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); // a listener failure was logged when it happened
        }
    }

    [LoggerMessage(EventId = 1814, Level = LogLevel.Information, Message = "Mail receiver listening on {Address}:{Port}")]
    private static partial void LogListening(ILogger logger, string address, int port);

    [LoggerMessage(EventId = 1816, Level = LogLevel.Error, Message = "The mail receiver stopped listening: replies and bounces are not received")]
    private static partial void LogReceiverFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1815, Level = LogLevel.Warning, Message = "An SMTP session of the mail receiver failed")]
    private static partial void LogSessionFaulted(ILogger logger, Exception exception);
}
