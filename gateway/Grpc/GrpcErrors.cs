using Grpc.Core;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Gateway.Grpc;

/// <summary>
/// gRPC statuses for Kefu's refusals. Every refusal also carries the stable Kefu code (the one HTTP problem details and
/// WebSocket error frames use) in the trailer <see cref="CodeTrailer"/>, so a client branches on it rather than on text.
/// </summary>
public static class GrpcErrors
{
    /// <summary>The trailer with the Kefu error code, e.g. <c>kefu-code: idempotency_mismatch</c>.</summary>
    public const string CodeTrailer = "kefu-code";

    public static RpcException Create(StatusCode status, string code, string message) =>
        new(new Status(status, message), new Metadata { { CodeTrailer, code } });

    public static RpcException From(KefuError error) => Create(StatusOf(error.Code), error.Code, error.Message);

    public static StatusCode StatusOf(string code) => code switch
    {
        ErrorCodes.NotFound => StatusCode.NotFound,
        ErrorCodes.NotAllowed or Auth.Scopes.MissingScope => StatusCode.PermissionDenied,
        InboundErrors.IdempotencyMismatch or ErrorCodes.Conflict or ErrorCodes.AtCapacity or ErrorCodes.InvalidState => StatusCode.FailedPrecondition,
        ErrorCodes.Unauthorized or ErrorCodes.InvalidCredentials => StatusCode.Unauthenticated,
        ErrorCodes.Unavailable => StatusCode.Unavailable,
        ErrorCodes.RateLimited => StatusCode.ResourceExhausted,
        ErrorCodes.InternalError => StatusCode.Internal,
        _ => StatusCode.InvalidArgument,
    };

    /// <summary>True for a gRPC request (any <c>application/grpc</c> content type), which must be answered with a gRPC status.</summary>
    public static bool IsGrpc(HttpContext context) =>
        context.Request.ContentType is { } type && type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Answers a gRPC request that middleware refuses before it reaches the service (the rate limiter) with a gRPC
    /// "trailers-only" response: HTTP 200, no body, the status in the headers. A client then sees the real status
    /// instead of a status made up from an HTTP 429.
    /// </summary>
    public static Task WriteTrailersOnlyAsync(HttpContext context, StatusCode status, string code, string message)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(message);
        response.Headers[CodeTrailer] = code;
        return response.CompleteAsync();
    }
}
