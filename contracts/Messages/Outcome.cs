namespace Kefu.Contracts.Messages;

/// <summary>A rule-level refusal with a stable code; the gateway maps it to an error frame or problem details.</summary>
[GenerateSerializer, Immutable]
public sealed record KefuError(
    [property: Id(0)] string Code,
    [property: Id(1)] string Message)
{
    public static KefuError NotFound(string what) => new(ErrorCodes.NotFound, $"{what} was not found.");
    public static KefuError NotAllowed(string why) => new(ErrorCodes.NotAllowed, why);
    public static KefuError Invalid(string why) => new(ErrorCodes.InvalidField, why);
}

/// <summary>Either a value or a <see cref="KefuError"/>; grains return it instead of throwing for expected refusals.</summary>
[GenerateSerializer, Immutable]
public sealed record Outcome<T>(
    [property: Id(0)] T? Value,
    [property: Id(1)] KefuError? Error)
{
    public bool IsOk => Error is null;

    public static implicit operator Outcome<T>(T value) => new(value, null);

    public static implicit operator Outcome<T>(KefuError error) => new(default, error);
}

/// <summary>Stable error codes shared by WebSocket error frames and HTTP problem details.</summary>
public static class ErrorCodes
{
    public const string BadFrame = "bad_frame";
    public const string UnknownType = "unknown_type";
    public const string MissingField = "missing_field";
    public const string InvalidField = "invalid_field";
    public const string TextTooLong = "text_too_long";
    public const string FrameTooLarge = "frame_too_large";
    public const string RateLimited = "rate_limited";
    public const string NotAllowed = "not_allowed";
    public const string NotFound = "not_found";
    public const string Unavailable = "unavailable";
    public const string InternalError = "internal_error";
    public const string Unauthorized = "unauthorized";
    public const string InvalidCredentials = "invalid_credentials";
    public const string Conflict = "conflict";
    public const string BadRequest = "bad_request";
    public const string AtCapacity = "at_capacity";
    public const string InvalidState = "invalid_state";

    /// <summary>A visitor's message was refused by a tenant's before_message plugin (docs/plugins.md): not stored. HTTP 422.</summary>
    public const string Refused = "refused";
}
