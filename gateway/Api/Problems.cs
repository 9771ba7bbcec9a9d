using Kefu.Contracts.Messages;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>RFC 9457 problem details, always with a stable <c>code</c> extension member.</summary>
public static class Problems
{
    public static ProblemHttpResult Create(int status, string code, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, extensions: new Dictionary<string, object?> { ["code"] = code });

    public static ProblemHttpResult Invalid(string detail) => Create(StatusCodes.Status400BadRequest, ErrorCodes.InvalidField, detail);

    public static ProblemHttpResult From(KefuError error) => Create(StatusOf(error.Code), error.Code, error.Message);

    public static int StatusOf(string code) => code switch
    {
        ErrorCodes.NotFound => StatusCodes.Status404NotFound,
        ErrorCodes.NotAllowed => StatusCodes.Status403Forbidden,
        ErrorCodes.Conflict or ErrorCodes.AtCapacity or ErrorCodes.InvalidState => StatusCodes.Status409Conflict,
        ErrorCodes.Unauthorized or ErrorCodes.InvalidCredentials => StatusCodes.Status401Unauthorized,
        ErrorCodes.Unavailable => StatusCodes.Status503ServiceUnavailable,
        ErrorCodes.Refused => StatusCodes.Status422UnprocessableEntity, // well-formed, but a tenant's plugin refused it
        _ => StatusCodes.Status400BadRequest,
    };

    /// <summary>The code for a problem raised by the framework (binding failures, status code pages) without one.</summary>
    public static string DefaultCode(int? status) => status switch
    {
        400 => ErrorCodes.BadRequest,
        401 => ErrorCodes.Unauthorized,
        403 => ErrorCodes.NotAllowed,
        404 => ErrorCodes.NotFound,
        405 => "method_not_allowed",
        409 => ErrorCodes.Conflict,
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        429 => ErrorCodes.RateLimited,
        503 => ErrorCodes.Unavailable,
        _ => ErrorCodes.InternalError,
    };
}
