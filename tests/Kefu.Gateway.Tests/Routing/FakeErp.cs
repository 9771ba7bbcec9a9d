using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kefu.Gateway.Tests.Routing;

/// <summary>One request as the fake ERP saw it.</summary>
public sealed record ErpRequest(string Method, string Path, string Body, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// A business system on a loopback Kestrel port, as the seed's <c>ERP</c> connector calls it: it records every request
/// and answers 200 with a small JSON body.
/// </summary>
public sealed class FakeErp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeErp(WebApplication app) => _app = app;

    public ConcurrentQueue<ErpRequest> Received { get; } = new();

    public string BaseUrl => _app.Urls.First();

    public static async Task<FakeErp> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var erp = new FakeErp(app);
        app.Run(erp.HandleAsync);
        await app.StartAsync();
        return erp;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        Received.Enqueue(new ErpRequest(context.Request.Method, context.Request.Path.Value ?? string.Empty, body, headers));
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("""{"synced":true}""");
    }
}
