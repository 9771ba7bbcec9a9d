using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;

namespace Kefu.Gateway.Ui;

/// <summary>
/// Cross-origin access for the widget: it runs on customers' websites (other origins) and calls the visitor side of
/// the HTTP API. Any origin may call those endpoints: they take a bearer token in a header, never a cookie, so a page
/// can do nothing with them that the visitor's own token does not allow. Agent endpoints get no CORS headers.
/// (WebSockets are not subject to CORS.)
/// </summary>
public static partial class WidgetCors
{
    public static IApplicationBuilder UseWidgetCors(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        if (!request.Headers.TryGetValue("Origin", out var origin) || StringValues.IsNullOrEmpty(origin) || !IsVisitorPath(request.Path))
        {
            await next();
            return;
        }

        var headers = context.Response.Headers;
        headers.AccessControlAllowOrigin = "*";
        headers.AccessControlExposeHeaders = "Location, Retry-After";
        if (HttpMethods.IsOptions(request.Method) && request.Headers.ContainsKey("Access-Control-Request-Method"))
        {
            headers.AccessControlAllowMethods = "GET, POST";
            headers.AccessControlAllowHeaders = "Authorization, Content-Type, Accept";
            headers.AccessControlMaxAge = "600";
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        await next();
    });

    /// <summary>What the widget calls: its inbox, visitor creation, its own record and identification, its own conversation, messages, CSAT and attachments.</summary>
    public static bool IsVisitorPath(PathString path) => path.Value is { } p && (VisitorPaths().IsMatch(p) || AttachmentLinkPath().IsMatch(p));

    [GeneratedRegex(@"^/api/v1/(widget/[^/]+(/messages)?|visitors(/|/me|/me/identify)?|conversations/[0-9A-Za-z]{26}(/messages|/csat|/attachments)?|attachments/[0-9A-Za-z]{26})$")]
    private static partial Regex VisitorPaths();

    /// <summary>The widget asks for a signed link of each attachment it shows (docs/protocol.md §3.5).</summary>
    [GeneratedRegex(@"^/api/v1/attachments/[0-9A-Za-z]{26}/link$")]
    private static partial Regex AttachmentLinkPath();
}
