using System.Security.Claims;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Gateway.Auth;
using Kefu.Grains.Participants;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Kefu.Gateway.Api.Avatars;

/// <summary>
/// Agents' pictures (issue #18): <c>PUT /api/v1/agents/me/avatar</c> (the image as the raw request body) and
/// <c>DELETE</c> for the calling agent; <c>GET /api/v1/avatars/{tenant}/{agentId}</c>, anonymous, for the console and
/// the visitors' widgets, which know the agent's id from its messages' <c>sender.id</c>. The public answer is the
/// picture and nothing else: its type is the one read from its bytes at upload, never sniffed.
/// </summary>
public static class AvatarsApi
{
    /// <summary>Larger pictures are refused: an avatar is drawn at 24 to 64 pixels.</summary>
    public const int MaxDimension = 2048;

    public const string PayloadTooLarge = "payload_too_large";
    public const string UnsupportedMediaType = "unsupported_media_type";

    /// <summary>A link without a version is re-checked after this long; a versioned one never changes.</summary>
    private const string ShortCache = "public, max-age=300";
    private const string LongCache = "public, max-age=31536000, immutable";

    public static IEndpointRouteBuilder MapAvatarsApi(this IEndpointRouteBuilder app)
    {
        var me = app.MapGroup("/api/v1/agents/me/avatar").WithTags("agents").RequireAuthorization(KefuPolicies.Agent);
        me.MapPut("/", PutAsync).RequireRateLimiting(RateLimits.Uploads)
            .Accepts<byte[]>("image/png", "image/jpeg", "image/webp").Produces<AvatarDto>();
        me.MapDelete("/", DeleteAsync).Produces(StatusCodes.Status204NoContent);
        app.MapGet("/api/v1/avatars/{tenant}/{agentId}", GetAsync).WithTags("widget").AllowAnonymous().RequireRateLimiting(RateLimits.Widget)
            .Produces(StatusCodes.Status200OK, typeof(byte[]), "image/png", "image/jpeg", "image/webp");
        return app;
    }

    /// <summary>The picture's link with its version (cached for good), or null when the agent has none.</summary>
    public static string? Url(string tenant, string agentId, string? version) =>
        version is null ? null : $"/api/v1/avatars/{Uri.EscapeDataString(tenant)}/{Uri.EscapeDataString(agentId)}?v={version}";

    private static async Task<IResult> PutAsync(HttpContext context, ClaimsPrincipal user, IGrainFactory grains)
    {
        var request = context.Request;
        if (request.ContentLength > AgentAvatarGrain.MaxBytes)
        {
            return TooLarge();
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = AgentAvatarGrain.MaxBytes;
        }

        byte[] bytes;
        try
        {
            bytes = await ReadAsync(request.Body, context.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge();
        }

        if (bytes.Length > AgentAvatarGrain.MaxBytes)
        {
            return TooLarge();
        }

        if (bytes.Length == 0)
        {
            return Problems.Invalid("Send the picture (PNG, JPEG or WebP) as the request body.");
        }

        // The type comes from the bytes; a declared type that says otherwise is a mistake worth telling about.
        if (ImageProbe.Read(bytes) is not { } image)
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, UnsupportedMediaType, "The body is not a PNG, JPEG or WebP picture.");
        }

        var declared = request.ContentType is { } ct ? MediaTypeHeaderValue.TryParse(ct, out var parsed) ? parsed.MediaType.Value : null : null;
        if (declared is not null && !string.Equals(declared, image.ContentType, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(declared, "application/octet-stream", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, UnsupportedMediaType, $"The body is {image.ContentType}, not {declared}.");
        }

        if (image.Width > MaxDimension || image.Height > MaxDimension)
        {
            return Problems.Invalid($"The picture is {image.Width}×{image.Height} pixels; at most {MaxDimension}×{MaxDimension}.");
        }

        var caller = user.ToCaller();
        var saved = await grains.GetGrain<IAgentAvatarGrain>(Tenancy.Key(caller.Tenant, caller.Id)).Set(image.ContentType, bytes);
        return saved.Error is { } error
            ? Problems.From(error)
            : TypedResults.Ok(new AvatarDto(Url(caller.Tenant, caller.Id, saved.Value), image.ContentType, image.Width, image.Height));
    }

    private static async Task<IResult> DeleteAsync(ClaimsPrincipal user, IGrainFactory grains)
    {
        var caller = user.ToCaller();
        var cleared = await grains.GetGrain<IAgentAvatarGrain>(Tenancy.Key(caller.Tenant, caller.Id)).Clear();
        return cleared.Error is { } error ? Problems.From(error) : TypedResults.NoContent();
    }

    private static async Task<IResult> GetAsync(string tenant, string agentId, HttpContext context, IGrainFactory grains)
    {
        if (!Tenancy.IsValidName(tenant) || !Tenancy.IsValidName(agentId))
        {
            return NotFound();
        }

        var key = Tenancy.Key(tenant, agentId);
        // A deleted agent's picture is gone with it (its grain is not asked to forget: the check is here).
        if (await grains.GetGrain<IAgentAvatarGrain>(key).Get() is not { } avatar || await grains.GetGrain<IAgentGrain>(key).GetProfile() is null)
        {
            return NotFound();
        }

        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        headers["Cross-Origin-Resource-Policy"] = "cross-origin"; // widgets on customers' sites show it
        headers.CacheControl = context.Request.Query["v"] == avatar.Version ? LongCache : ShortCache;
        var etag = new EntityTagHeaderValue($"\"{avatar.Version}\"");
        headers.ETag = etag.ToString();
        if (context.Request.GetTypedHeaders().IfNoneMatch is { Count: > 0 } match && match.Any(m => m.Compare(etag, useStrongComparison: false)))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.File(avatar.Bytes, avatar.ContentType);
    }

    private static async Task<byte[]> ReadAsync(Stream body, CancellationToken cancellationToken)
    {
        // One byte past the limit is enough to know the body is too large, without a Content-Length.
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > AgentAvatarGrain.MaxBytes)
            {
                break;
            }
        }

        return buffer.ToArray();
    }

    private static IResult TooLarge() =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, PayloadTooLarge, $"A picture is limited to {AgentAvatarGrain.MaxBytes} bytes.");

    private static IResult NotFound() =>
        Problems.Create(StatusCodes.Status404NotFound, Contracts.Messages.ErrorCodes.NotFound, "This agent has no picture.");
}

/// <summary>The stored picture: its versioned link, type (from its bytes) and size in pixels.</summary>
public sealed record AvatarDto(string? Url, string ContentType, int Width, int Height);
