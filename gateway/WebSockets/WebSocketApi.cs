using System.Net.WebSockets;
using System.Security.Claims;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Api;
using Kefu.Gateway.Auth;
using Kefu.Gateway.Hosting;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.WebSockets;

public static class WebSocketApi
{
    public static IEndpointRouteBuilder MapWebSocketApi(this IEndpointRouteBuilder app)
    {
        // RequireAuthorization: a missing or bad token is answered 401 before any upgrade.
        app.Map("/ws", HandleAsync).RequireAuthorization();
        return app;
    }

    private static async Task<IResult> HandleAsync(
        HttpContext context,
        ClaimsPrincipal user,
        IGrainFactory grains,
        ConnectionRegistry registry,
        GatewayIdentity gateway,
        IOptions<KefuWebSocketOptions> options,
        ILoggerFactory loggers)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "websocket_required", "This endpoint speaks WebSocket only.");
        }

        var requested = context.WebSockets.WebSocketRequestedProtocols;
        var (subprotocol, encoding) = Negotiate(requested);
        if (requested.Count > 0 && subprotocol is null)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "unsupported_subprotocol",
                $"Supported subprotocols: {KefuWebSocketOptions.JsonSubprotocol}, {KefuWebSocketOptions.BinarySubprotocol}.");
        }

        var caller = user.ToCaller();
        var exists = caller.Role == ParticipantRole.Visitor
            ? await grains.GetGrain<IVisitorGrain>(Tenancy.Key(caller.Tenant, caller.Id)).GetProfile() is not null
            : await grains.GetGrain<IAgentGrain>(Tenancy.Key(caller.Tenant, caller.Id)).GetProfile() is not null;
        if (!exists)
        {
            return Problems.Create(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "The token's account does not exist.");
        }

        var connection = new ChatConnection(caller, gateway.Id, grains, options.Value, loggers.CreateLogger<ChatConnection>(), encoding);
        await connection.OpenAsync(registry);
        WebSocket socket;
        try
        {
            socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                SubProtocol = subprotocol,
                KeepAliveInterval = options.Value.KeepAliveInterval,
                KeepAliveTimeout = options.Value.KeepAliveTimeout,
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

        return Results.Empty;
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
}
