using System.Net.WebSockets;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Api;
using Kefu.Gateway.Auth;
using Kefu.Gateway.Hosting;
using Kefu.Grains.Attachments;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.WebSockets;

public static partial class WebSocketApi
{
    /// <summary>The problem code of an upgrade refused by <see cref="KefuWebSocketOptions.MaxConnectionsPerParticipant"/>.</summary>
    public const string TooManyConnections = "too_many_connections";

    /// <summary>
    /// Serves <c>/ws</c> ahead of authentication, authorization and endpoint routing: an HTTP request that becomes a
    /// WebSocket lives as long as the connection, and with it everything the request pipeline attached to it (the
    /// authentication handler and its result, the validated token and its principal, the authorization middleware's
    /// state, the request's service scope): several KiB per idle connection. The handler checks the token itself and
    /// keeps only the <see cref="Caller"/>. Answers are unchanged: 401 before any upgrade for a missing or bad token.
    /// </summary>
    public static IApplicationBuilder UseWebSocketApi(this IApplicationBuilder app)
    {
        var services = app.ApplicationServices;
        var handler = new Handler(
            services.GetRequiredService<TokenService>(),
            services.GetRequiredService<IGrainFactory>(),
            services.GetRequiredService<ConnectionRegistry>(),
            services.GetRequiredService<GatewayIdentity>(),
            services.GetRequiredService<IOptions<KefuWebSocketOptions>>().Value,
            services.GetRequiredService<ILoggerFactory>().CreateLogger<ChatConnection>(),
            services.GetService<IAttachmentStore>(),
            services.GetRequiredService<BeforeMessageGate>());
        return app.Use(next => context => IsWebSocketPath(context.Request.Path) ? handler.HandleAsync(context) : next(context));
    }

    private static bool IsWebSocketPath(PathString path) =>
        path.StartsWithSegments("/ws", StringComparison.OrdinalIgnoreCase, out var rest) && (!rest.HasValue || rest.Value == "/");

    private sealed class Handler(
        TokenService tokens, IGrainFactory grains, ConnectionRegistry registry, GatewayIdentity gateway, KefuWebSocketOptions options, ILogger logger,
        IAttachmentStore? attachments, BeforeMessageGate hooks)
    {
        public async Task HandleAsync(HttpContext context)
        {
            var bearer = BearerToken(context.Request);
            RedactToken(context.Request);
            var caller = await tokens.ValidateAsync(bearer);
            if (caller is null)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await Problems.Create(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "A valid bearer token is required.").ExecuteAsync(context);
                return;
            }

            if (!context.WebSockets.IsWebSocketRequest)
            {
                await Problems.Create(StatusCodes.Status400BadRequest, "websocket_required", "This endpoint speaks WebSocket only.").ExecuteAsync(context);
                return;
            }

            var requested = context.WebSockets.WebSocketRequestedProtocols;
            var (subprotocol, encoding) = Negotiate(requested);
            if (requested.Count > 0 && subprotocol is null)
            {
                await Problems.Create(StatusCodes.Status400BadRequest, "unsupported_subprotocol",
                    $"Supported subprotocols: {KefuWebSocketOptions.JsonSubprotocol}, {KefuWebSocketOptions.BinarySubprotocol}.").ExecuteAsync(context);
                return;
            }

            var exists = caller.Role == ParticipantRole.Visitor
                ? await grains.GetGrain<IVisitorGrain>(Tenancy.Key(caller.Tenant, caller.Id)).GetProfile() is not null
                : await grains.GetGrain<IAgentGrain>(Tenancy.Key(caller.Tenant, caller.Id)).GetProfile() is not null;
            if (!exists)
            {
                await Problems.Create(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "The token's account does not exist.").ExecuteAsync(context);
                return;
            }

            var connection = new ChatConnection(caller, gateway.Id, grains, options, logger, encoding, attachments, hooks);
            if (!await connection.OpenAsync(registry, options.MaxConnectionsPerParticipant))
            {
                // Refused rather than closing the oldest: two tabs over the cap would otherwise take turns closing each
                // other's sockets, and every reconnect would close another.
                LogTooManyConnections(logger, caller.ParticipantKey, options.MaxConnectionsPerParticipant);
                await Problems.Create(StatusCodes.Status429TooManyRequests, TooManyConnections,
                    $"At most {options.MaxConnectionsPerParticipant} connections per participant; close one first.").ExecuteAsync(context);
                return;
            }

            // A revocation (logout, password or role change, deactivation) that landed between the check above and the
            // registration closes only the sockets registered by then: ask once more now that this one is registered, so
            // either the revocation finds it or this check sees the revocation.
            if (caller.Role != ParticipantRole.Visitor && await tokens.ValidateAsync(bearer) is null)
            {
                await connection.CloseAsync(registry);
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await Problems.Create(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "A valid bearer token is required.").ExecuteAsync(context);
                return;
            }

            WebSocket socket;
            try
            {
                socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
                {
                    SubProtocol = subprotocol,
                    KeepAliveInterval = options.KeepAliveInterval,
                    KeepAliveTimeout = options.KeepAliveTimeout,
                });
            }
            catch
            {
                await connection.CloseAsync(registry);
                throw;
            }

            using (socket)
            {
                await connection.RunAsync(socket, registry, context.RequestAborted);
            }
        }

        /// <summary>
        /// Replaces the <c>access_token</c> of the query with <c>redacted</c> once it is read: whatever logs the request
        /// from here on (the request-finished log, diagnostics) never sees the token, and the connection does not keep
        /// the token string alive for its whole life.
        /// </summary>
        private static void RedactToken(HttpRequest request)
        {
            if (QueryHelpers.ParseNullableQuery(request.QueryString.Value) is not { } query || !query.ContainsKey("access_token"))
            {
                return;
            }

            var builder = new QueryBuilder();
            foreach (var (key, values) in query)
            {
                foreach (var value in values)
                {
                    builder.Add(key, string.Equals(key, "access_token", StringComparison.OrdinalIgnoreCase) ? "redacted" : value ?? "");
                }
            }

            request.QueryString = builder.ToQueryString();
        }

        /// <summary>
        /// Browsers cannot set headers on a WebSocket, so <c>?access_token=</c> (one non-empty value) comes first;
        /// otherwise <c>Authorization: Bearer</c>. The query is parsed here rather than through Request.Query, which
        /// would keep the parsed copy for as long as the WebSocket lives.
        /// </summary>
        private static string? BearerToken(HttpRequest request)
        {
            if (QueryHelpers.ParseNullableQuery(request.QueryString.Value) is { } query
                && query.TryGetValue("access_token", out var values)
                && values is [{ Length: > 0 } fromQuery])
            {
                return fromQuery;
            }

            var authorization = request.Headers.Authorization.ToString();
            return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                ? authorization["Bearer ".Length..].Trim()
                : null;
        }
    }

    /// <summary>
    /// The first supported subprotocol in the client's order of preference; none asked means kefu.v1.json without
    /// naming a subprotocol in the answer.
    /// </summary>
    private static (string? Subprotocol, FrameEncoding Encoding) Negotiate(IList<string> requested)
    {
        for (var i = 0; i < requested.Count; i++)
        {
            var candidate = requested[i];
            if (string.Equals(candidate, KefuWebSocketOptions.JsonSubprotocol, StringComparison.Ordinal))
            {
                return (KefuWebSocketOptions.JsonSubprotocol, FrameEncoding.Json);
            }

            if (string.Equals(candidate, KefuWebSocketOptions.BinarySubprotocol, StringComparison.Ordinal))
            {
                return (KefuWebSocketOptions.BinarySubprotocol, FrameEncoding.Binary);
            }
        }

        return (null, FrameEncoding.Json);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Refused a WebSocket of {Participant}: it already has {Max} on this gateway")]
    private static partial void LogTooManyConnections(ILogger logger, string participant, int max);
}
