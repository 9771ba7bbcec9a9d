using Grpc.Core;
using Grpc.Core.Interceptors;
using Kefu.Contracts.Messages;

namespace Kefu.Gateway.Grpc;

/// <summary>
/// Keeps every gRPC service (integration, health, reflection) on the gRPC port only: on an https HTTP port with ALPN
/// HTTP/2 would otherwise reach them too. (A plain-http HTTP/1 port cannot carry gRPC at all.)
/// </summary>
public sealed class GrpcPortGuard(GrpcPort port) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Check(ServerCallContext context)
    {
        if (context.GetHttpContext().Connection.LocalPort != port.Number)
        {
            throw GrpcErrors.Create(StatusCode.Unimplemented, ErrorCodes.NotFound, $"gRPC is served on port {port.Number} (Kefu:Grpc:Url).");
        }
    }
}

/// <summary>The port of <see cref="KefuGrpcOptions.Url"/>.</summary>
public sealed record GrpcPort(int Number);
