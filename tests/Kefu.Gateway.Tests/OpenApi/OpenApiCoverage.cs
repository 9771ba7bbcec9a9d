using System.Text.Json;
using Kefu.Gateway.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Kefu.Gateway.Tests.OpenApi;

/// <summary>
/// Compares the mapped endpoints (the gateway's <see cref="EndpointDataSource"/>, so an endpoint added anywhere is
/// checked without being listed) with the paths and operations of the OpenAPI document.
/// </summary>
public static class OpenApiCoverage
{
    /// <summary>
    /// Endpoints left out of the document on purpose, each with the reason. Anything else that is mapped must be in the
    /// document: an endpoint marked ExcludeFromDescription that is not listed here is reported as missing. (The browser
    /// files and /ws are middleware, not endpoints, so they never appear in the endpoint list.)
    /// </summary>
    public static readonly (string Method, string Path, string Why)[] Excluded =
    [
        ("GET", "/", "redirects a browser to the demo page"),
        ("GET", "/demo", "an HTML page hosting the widget, not an API"),
        ("GET", KefuOpenApi.DocumentPath, "the OpenAPI document itself"),
    ];

    /// <summary>"METHOD /path (display name)" of every endpoint the document lacks.</summary>
    public static List<string> Missing(IEnumerable<Endpoint> endpoints, JsonElement document, out int checkedCount)
    {
        var missing = new List<string>();
        checkedCount = 0;
        var paths = document.TryGetProperty("paths", out var p) ? p : default;
        foreach (var endpoint in endpoints.OfType<RouteEndpoint>())
        {
            // gRPC methods (INTEGRATION.md §7) are described by their .proto, not by OpenAPI.
            if (endpoint.Metadata.Any(m => m.GetType().Name == "GrpcMethodMetadata"))
            {
                continue;
            }

            var path = PathOf(endpoint.RoutePattern);
            IReadOnlyList<string> methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [];
            foreach (var method in methods.Count == 0 ? ["*"] : methods)
            {
                if (Excluded.Any(e => e.Method == method && e.Path == path))
                {
                    continue;
                }

                checkedCount++;
                var found = paths.ValueKind == JsonValueKind.Object
                    && paths.TryGetProperty(path, out var item)
                    && (method == "*" || item.TryGetProperty(method.ToLowerInvariant(), out _));
                if (!found)
                {
                    missing.Add($"{method} {path} ({endpoint.DisplayName})");
                }
            }
        }

        return missing;
    }

    /// <summary>The OpenAPI path of a route: parameters as {name}, without constraints, defaults or a trailing slash.</summary>
    public static string PathOf(RoutePattern pattern)
    {
        var segments = pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart parameter => "{" + parameter.Name + "}",
            _ => throw new NotSupportedException(part.GetType().Name),
        })));
        return "/" + string.Join('/', segments);
    }
}
