using System.Security.Claims;
using System.Text;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Api;
using Kefu.Gateway.Auth;
using Kefu.Grains.Attachments;
using Kefu.Grains.Directory;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Kefu.Gateway.Attachments;

/// <summary>
/// Images and files in a conversation: <c>POST /api/v1/conversations/{id}/attachments</c> stores one (size and type
/// checked here, on the server, within the conversation's and tenant's quotas and the disk's free-space floor),
/// <c>POST /api/v1/attachments/{id}/link</c> gives a participant a short-lived signed URL of it, and
/// <c>GET /api/v1/attachments/{id}</c> serves it for that URL or a bearer header. The chat message that shows it is an
/// ordinary <c>send</c> whose text references it (docs/protocol.md §3.5).
/// </summary>
public static class AttachmentsApi
{
    public const string PayloadTooLarge = "payload_too_large";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string QuotaExceeded = "quota_exceeded";
    public const string InsufficientStorage = "insufficient_storage";
    public const string InvalidLink = "invalid_link";
    public const string LinkExpired = "link_expired";

    /// <summary>Room for the multipart framing around the file.</summary>
    private const long MultipartOverhead = 64 * 1024;

    public static IEndpointRouteBuilder MapAttachmentsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/conversations/{conversationId}/attachments", UploadAsync).WithTags("attachments").RequireAuthorization()
            .RequireRateLimiting(RateLimits.Uploads);
        app.MapPost("/api/v1/attachments/{attachmentId}/link", LinkAsync).WithTags("attachments").RequireAuthorization();
        // Anonymous at the routing level: a signed link carries no token; without one, DownloadAsync requires a bearer header.
        app.MapGet("/api/v1/attachments/{attachmentId}", DownloadAsync).WithTags("attachments").AllowAnonymous();
        return app;
    }

    /// <summary>Agents may read what they may see; the visitor only their own conversation.</summary>
    private static bool MayRead(ConversationSummary summary, Caller caller) => caller.Role == ParticipantRole.Visitor
        ? summary.VisitorId == caller.Id
        : summary.IsVisibleTo(caller.Id, caller.IsAdmin);

    /// <summary>As for <c>send</c>: the visitor of the conversation, or an agent who has joined it (or holds it).</summary>
    private static bool MaySend(ConversationSummary summary, Caller caller) => caller.Role == ParticipantRole.Visitor
        ? summary.VisitorId == caller.Id
        : summary.AssigneeId == caller.Id || summary.AgentIds.Contains(caller.Id);

    private static async Task<IResult> UploadAsync(
        string conversationId, HttpContext context, ClaimsPrincipal user, IGrainFactory grains, IAttachmentStore store,
        IOptions<AttachmentOptions> options, TimeProvider time, UploadAddressLimiter addressLimiter, IFreeDiskSpace disk)
    {
        if (addressLimiter.TryAcquire(context) is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.Create(StatusCodes.Status429TooManyRequests, ErrorCodes.RateLimited, "Too many uploads from this address; retry later.");
        }

        if (!Ulid.TryParse(conversationId, out var conversationUlid))
        {
            return ConversationNotFound();
        }

        var caller = user.ToCaller();
        var summary = await grains.GetGrain<IConversationGrain>(Tenancy.Key(caller.Tenant, conversationId)).GetSummary();
        if (summary is null || (caller.Role == ParticipantRole.Visitor && summary.VisitorId != caller.Id))
        {
            return ConversationNotFound();
        }

        if (!MaySend(summary, caller))
        {
            return Problems.Create(StatusCodes.Status403Forbidden, ErrorCodes.NotAllowed, "Join the conversation first.");
        }

        var limits = options.Value;
        var request = context.Request;
        if (!request.HasFormContentType || !request.ContentType!.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, UnsupportedMediaType, "Send the file as multipart/form-data in a field named 'file'.");
        }

        if (request.ContentLength > limits.MaxBytes + MultipartOverhead)
        {
            return TooLarge(limits);
        }

        // Before the body is read (reading buffers it to disk): refuse when the disk would fall under the floor.
        if (store.Directory is { } directory && disk.AvailableBytes(directory) is { } available && available - (request.ContentLength ?? limits.MaxBytes) < limits.MinFreeBytes)
        {
            return Problems.Create(StatusCodes.Status507InsufficientStorage, InsufficientStorage, "The server is low on disk space; uploads are refused for now.");
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = limits.MaxBytes + MultipartOverhead;
        }

        IFormFile? file;
        try
        {
            var form = await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = limits.MaxBytes + MultipartOverhead }, context.RequestAborted);
            file = form.Files.GetFile("file");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(limits);
        }
        catch (InvalidDataException e) when (e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            return TooLarge(limits);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, ErrorCodes.BadRequest, "The multipart body could not be read.");
        }

        if (file is null || file.Length == 0)
        {
            return Problems.Invalid("Send one non-empty file in a field named 'file'.");
        }

        if (file.Length > limits.MaxBytes)
        {
            return TooLarge(limits);
        }

        var contentType = MediaType(file.ContentType);
        if (contentType is null || !limits.EffectiveAllowedTypes.Contains(contentType))
        {
            return NotAllowedType(limits, $"'{file.ContentType}' is not an allowed type.");
        }

        await using var content = file.OpenReadStream();
        var head = new byte[(int)Math.Min(FileSignatures.HeadLength, file.Length)];
        await content.ReadExactlyAsync(head, context.RequestAborted);
        if (!FileSignatures.Matches(contentType, head))
        {
            return NotAllowedType(limits, $"The file's content is not {contentType}.");
        }

        content.Position = 0;
        var info = new AttachmentInfo(
            Ulid.NewUlid().ToString(), caller.Tenant, conversationUlid.ToString(), SafeName(file.FileName), contentType, file.Length,
            caller.Role == ParticipantRole.Visitor ? "visitor" : "agent", caller.Id, time.GetUtcNow());
        var quota = new AttachmentQuota(grains, caller.Tenant, info.ConversationId, info.Size);
        if (await quota.TryReserveAsync(limits) is { } exceeded)
        {
            return Problems.Create(StatusCodes.Status413PayloadTooLarge, QuotaExceeded, exceeded);
        }

        try
        {
            await store.SaveAsync(info, content, context.RequestAborted);
        }
        catch
        {
            await quota.ReleaseAsync();
            throw;
        }

        var url = $"/api/v1/attachments/{info.AttachmentId}";
        return TypedResults.Created(url, new AttachmentDto(info.AttachmentId, info.Name, info.ContentType, info.Size, url));
    }

    private static async Task<IResult> LinkAsync(
        string attachmentId, HttpContext context, ClaimsPrincipal user, IGrainFactory grains, IAttachmentStore store, AttachmentLinks links)
    {
        var (info, refused) = await ReadableAsync(attachmentId, user.ToCaller(), grains, store, context.RequestAborted);
        if (info is null)
        {
            return refused!;
        }

        var (url, expiresAt) = links.Create(info.AttachmentId);
        return TypedResults.Ok(new AttachmentLinkDto(url, expiresAt));
    }

    private static async Task<IResult> DownloadAsync(
        string attachmentId, HttpContext context, ClaimsPrincipal user, IGrainFactory grains, IAttachmentStore store, AttachmentLinks links)
    {
        var query = context.Request.Query;
        if (query.ContainsKey("access_token"))
        {
            // A token in a URL lands in history, copied links and proxy logs: ask for a signed link instead.
            return Problems.Create(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized,
                "Tokens in attachment URLs are not accepted; use the URL from POST /api/v1/attachments/{id}/link, or an Authorization header.");
        }

        AttachmentInfo? info;
        if (query.ContainsKey("sig") || query.ContainsKey("exp"))
        {
            switch (links.Verify(attachmentId, query["exp"], query["sig"]))
            {
                case AttachmentLinks.Verdict.Expired:
                    return Problems.Create(StatusCodes.Status403Forbidden, LinkExpired, "This link has expired; ask for a new one.");
                case AttachmentLinks.Verdict.Invalid:
                    return Problems.Create(StatusCodes.Status403Forbidden, InvalidLink, "This link is not valid for this attachment.");
            }

            info = await store.GetInfoAsync(attachmentId, context.RequestAborted);
            if (info is null)
            {
                return AttachmentNotFound();
            }
        }
        else if (user.Identity?.IsAuthenticated != true)
        {
            return TypedResults.Challenge();
        }
        else
        {
            (info, var refused) = await ReadableAsync(attachmentId, user.ToCaller(), grains, store, context.RequestAborted);
            if (info is null)
            {
                return refused!;
            }
        }

        var bytes = await store.OpenReadAsync(info.AttachmentId, context.RequestAborted);
        if (bytes is null)
        {
            return AttachmentNotFound();
        }

        var image = info.ContentType.StartsWith("image/", StringComparison.Ordinal);
        var disposition = new ContentDispositionHeaderValue(image ? "inline" : "attachment");
        disposition.SetHttpFileName(info.Name);
        var headers = context.Response.Headers;
        headers.ContentDisposition = disposition.ToString();
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        headers.CacheControl = "private, max-age=86400";
        var contentType = info.ContentType == "text/plain" ? "text/plain; charset=utf-8" : info.ContentType;
        return TypedResults.Stream(bytes, contentType);
    }

    /// <summary>The attachment if <paramref name="caller"/> may read it, else the problem to answer.</summary>
    private static async Task<(AttachmentInfo? Info, IResult? Refused)> ReadableAsync(
        string attachmentId, Caller caller, IGrainFactory grains, IAttachmentStore store, CancellationToken cancellationToken)
    {
        var info = await store.GetInfoAsync(attachmentId, cancellationToken);
        if (info is null || info.Tenant != caller.Tenant)
        {
            return (null, AttachmentNotFound());
        }

        var summary = await grains.GetGrain<IConversationGrain>(Tenancy.Key(caller.Tenant, info.ConversationId)).GetSummary();
        if (summary is null || (caller.Role == ParticipantRole.Visitor && summary.VisitorId != caller.Id))
        {
            return (null, AttachmentNotFound());
        }

        if (!MayRead(summary, caller))
        {
            return (null, Problems.Create(StatusCodes.Status403Forbidden, ErrorCodes.NotAllowed, "This conversation is assigned to another agent."));
        }

        return (info, null);
    }

    /// <summary>The media type without parameters, lower-case; null when there is none.</summary>
    private static string? MediaType(string? declared)
    {
        if (string.IsNullOrWhiteSpace(declared))
        {
            return null;
        }

        var semicolon = declared.IndexOf(';', StringComparison.Ordinal);
        return (semicolon < 0 ? declared : declared[..semicolon]).Trim().ToLowerInvariant();
    }

    /// <summary>The last path segment, without control or bidi characters, at most 200 characters; "file" if nothing is left.</summary>
    public static string SafeName(string? name)
    {
        var last = (name ?? string.Empty).Replace('\\', '/');
        last = last[(last.LastIndexOf('/') + 1)..];
        var builder = new StringBuilder(last.Length);
        foreach (var c in last)
        {
            if (!char.IsControl(c) && c is not ('\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069')))
            {
                builder.Append(c);
            }
        }

        var safe = builder.ToString().Trim().Trim('.');
        if (safe.Length > 200)
        {
            safe = safe[..200];
            if (char.IsHighSurrogate(safe[^1]))
            {
                safe = safe[..^1];
            }
        }

        return safe.Length == 0 ? "file" : safe;
    }

    private static ProblemHttpResult TooLarge(AttachmentOptions limits) =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, PayloadTooLarge, $"Files are limited to {limits.MaxBytes} bytes.");

    private static ProblemHttpResult NotAllowedType(AttachmentOptions limits, string why) =>
        Problems.Create(StatusCodes.Status415UnsupportedMediaType, UnsupportedMediaType, $"{why} Allowed: {string.Join(", ", limits.EffectiveAllowedTypes)}.");

    private static ProblemHttpResult ConversationNotFound() =>
        Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Conversation was not found.");

    private static ProblemHttpResult AttachmentNotFound() =>
        Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Attachment was not found.");
}

public sealed record AttachmentDto(string AttachmentId, string Name, string ContentType, long Size, string Url);

public sealed record AttachmentLinkDto(string Url, DateTimeOffset ExpiresAt);
