using System.Net.Sockets;
using System.Text;

namespace Kefu.Gateway.Tests.Email;

/// <summary>
/// A bare SMTP client for what a well-behaved one (MailKit) will not do: a SIZE it cannot keep, more data than it
/// announced, bytes that are no mail, many recipients on one connection.
/// </summary>
public sealed class MailReceiverProbe : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly TcpClient _client;
    private readonly Stream _stream;
    private readonly StreamReader _reader;

    private MailReceiverProbe(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
        _reader = new StreamReader(_stream, Encoding.ASCII);
    }

    public static async Task<MailReceiverProbe> ConnectAsync(int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port).WaitAsync(Timeout);
        var probe = new MailReceiverProbe(client);
        Assert.StartsWith("220", await probe.ReplyAsync());
        Assert.StartsWith("250", await probe.CommandAsync("EHLO probe.example"));
        return probe;
    }

    /// <summary>Sends one command line and returns the last line of the reply ("250 Ok"), or "" when the server hung up.</summary>
    public async Task<string> CommandAsync(string line)
    {
        await WriteAsync(line + "\r\n");
        return await ReplyAsync();
    }

    public async Task WriteAsync(string text)
    {
        try
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            await _stream.WriteAsync(bytes).AsTask().WaitAsync(Timeout);
        }
        catch (IOException)
        {
            // The server may close the connection while we still write (an oversize mail): the reply says why.
        }
    }

    public async Task<string> ReplyAsync()
    {
        try
        {
            while (true)
            {
                var line = await _reader.ReadLineAsync().WaitAsync(Timeout);
                if (line is null)
                {
                    return "";
                }

                // "250-PIPELINING" continues, "250 Ok" ends a reply.
                if (line.Length < 4 || line[3] != '-')
                {
                    return line;
                }
            }
        }
        catch (IOException)
        {
            return "";
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _client.Dispose();
    }
}
