using System.Net;
using System.Text;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Orleans.Runtime;

namespace Kefu.Gateway.Ui;

/// <summary>
/// The browser pages: the visitor widget (<c>/widget.js</c>), the agent console (<c>/console/</c>) and a demo page
/// hosting the widget (<c>/demo</c>, and <c>/</c> redirects there). The files are embedded in the gateway assembly,
/// so any host of the gateway (dotnet run, a published binary, a container, an in-process test) serves them.
/// </summary>
public static class UiEndpoints
{
    // Console pages get a strict policy: scripts and styles only from this origin, so even an escaping bug could not
    // run injected script. The widget itself is made for other sites' pages, which set their own policies.
    // connect-src 'self' covers ws:/wss: of the same host and port in CSP Level 3 browsers (current Chromium, Firefox,
    // Safari), so the console can reach its own /ws and nothing else.
    private const string ConsolePolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    // The demo page stands for a customer's site: only this origin's widget script, styles and socket; it may be
    // framed by this origin only.
    private const string DemoPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; frame-ancestors 'self'; form-action 'self'";

    /// <summary>
    /// The browser client module shared by the widget and the console (connect, resume, ordered outbox); the console
    /// imports it from 'self', the widget with a dynamic import() from its own origin, so both page policies allow it.
    /// </summary>
    public const string ClientModulePath = "/kefu-client.js";

    /// <summary>Modules the widget loads next to the client module (safe links, emoji and paste): public like it.</summary>
    private static readonly HashSet<string> WidgetModulePaths = [ClientModulePath, "/linkify.js", "/composer-kit.js"];

    private static readonly Func<object, Task> NoSniff = static response =>
    {
        ((HttpResponse)response).Headers.XContentTypeOptions = "nosniff";
        return Task.CompletedTask;
    };

    public static WebApplication MapKefuUi(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            // Every response: no content sniffing. Set when the response starts, so even an error answer written after
            // the exception handler has cleared the headers carries it. /ws sets it at once instead: a callback
            // registered on a request that becomes a WebSocket would be held for the connection's whole life.
            if (context.Request.Path.StartsWithSegments("/ws", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.Headers.XContentTypeOptions = "nosniff";
            }
            else
            {
                context.Response.OnStarting(NoSniff, context.Response);
            }

            return next(context);
        });
        app.UseWidgetCors();
        var files = new EmbeddedFileProvider(typeof(UiEndpoints).Assembly, "Kefu.Gateway.wwwroot");
        var contentTypes = new FileExtensionContentTypeProvider();
        app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            if (path.Value == "/demo")
            {
                context.Response.Headers.ContentSecurityPolicy = DemoPolicy;
            }

            if (path.Value is { } modulePath && WidgetModulePaths.Contains(modulePath))
            {
                // widget.js imports the shared client module into the customer's page: a module script from another
                // origin is fetched in CORS mode (without credentials), so it loads only with this header. The file is
                // public and the same for everyone, like widget.js itself.
                context.Response.Headers.AccessControlAllowOrigin = "*";
            }

            if (path.StartsWithSegments("/console"))
            {
                if (path.Value == "/console")
                {
                    context.Response.Redirect("/console/");
                    return;
                }

                if (path.Value == "/console/")
                {
                    context.Request.Path = "/console/index.html";
                }

                context.Response.Headers.ContentSecurityPolicy = ConsolePolicy;
            }

            await next();
        });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            ContentTypeProvider = contentTypes,
            // Pages change with the gateway version; browsers revalidate (ETag) instead of keeping stale scripts.
            OnPrepareResponse = ctx => ctx.Context.Response.Headers.CacheControl = "no-cache",
        });

        app.MapGet("/", () => Results.Redirect("/demo")).ExcludeFromDescription();
        app.MapGet("/demo", DemoPageAsync).ExcludeFromDescription();

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var grpcPort = app.Services.GetService<Grpc.GrpcPort>()?.Number ?? 0;
            foreach (var address in addresses.Where(a => grpcPort == 0 || Grpc.GrpcHosting.PortOf(a) != grpcPort))
            {
                Console.WriteLine($"Kefu pages: agent console {address}/console/  ·  widget demo {address}/demo");
            }
        });
        return app;
    }

    /// <summary>
    /// A page hosting the widget for an inbox of the default tenant (<c>?inbox=</c>, default <c>default</c>), as a
    /// customer's website would: one script tag with the inbox's public key. Without a key (inboxes not available) the
    /// widget names the tenant and inbox instead.
    /// </summary>
    private static async Task<IResult> DemoPageAsync(
        HttpRequest request, IGrainFactory grains, ILoggerFactory loggers, string? inbox = null, string? lang = null)
    {
        inbox = inbox is not null && Tenancy.IsValidName(inbox) ? inbox : Tenancy.DefaultInbox;
        string? publicKey = null;
        try
        {
            publicKey = (await grains.GetGrain<ITenantGrain>(Tenancy.DefaultTenant).GetInbox(inbox))?.PublicKey;
        }
        catch (Exception e) when (e is NotImplementedException or TimeoutException or OrleansException)
        {
            loggers.CreateLogger(typeof(UiEndpoints)).LogDebug(e, "No inbox key for the demo page; using tenant and inbox names.");
        }

        var attributes = string.IsNullOrEmpty(publicKey)
            ? $"data-tenant=\"{Tenancy.DefaultTenant}\" data-inbox=\"{inbox}\""
            : $"data-inbox-key=\"{WebUtility.HtmlEncode(publicKey)}\"";
        if (lang is "en" or "zh-CN")
        {
            attributes += $" data-lang=\"{lang}\"";
        }

        var tag = $"<script src=\"/widget.js\" {attributes} async></script>";
        var origin = $"{request.Scheme}://{request.Host}";
        var html = new StringBuilder()
            .Append("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>Kefu widget demo</title>\n<link rel=\"icon\" href=\"data:,\">\n<link rel=\"stylesheet\" href=\"/demo.css\">\n</head>\n<body>\n")
            .Append("<main>\n<h1>Acme Outdoor Gear</h1>\n")
            .Append("<p>This page stands for your website. The chat bubble in the corner is the Kefu widget, embedded with one tag:</p>\n")
            .Append("<pre id=\"snippet\">").Append(WebUtility.HtmlEncode(tag.Replace("src=\"/", $"src=\"{origin}/", StringComparison.Ordinal))).Append("</pre>\n")
            .Append("<p>Agents answer from the <a href=\"/console/\">agent console</a>.</p>\n</main>\n")
            .Append(tag).Append("\n</body>\n</html>\n")
            .ToString();
        return Results.Content(html, "text/html; charset=utf-8");
    }
}
