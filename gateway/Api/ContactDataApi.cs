using System.IO.Compression;
using System.Security.Claims;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Kefu.Grains.DataProtection;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>
/// A contact's export and erasure (issue #20, docs/data-protection.md). Admins, or keys with <c>contacts:read</c> (export)
/// and <c>contacts:write</c> (erasure); agents do neither. The export is a zip streamed as the silo produces it; the
/// erasure answers 204 when it finished within the request, else 202 with its status URL (a reminder finishes it).
/// </summary>
public static class ContactDataApi
{
    /// <summary>How long a DELETE works on the erasure before answering 202 (under the grain call timeout).</summary>
    private static readonly TimeSpan SynchronousBudget = TimeSpan.FromSeconds(20);

    public static IEndpointRouteBuilder MapContactDataApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/contacts").WithTags("contacts");
        group.MapGet("/{contactId}/export", ExportAsync).RequireAuthorization(KefuPolicies.ForScope(Scopes.ContactsRead));
        group.MapDelete("/{contactId}", EraseAsync).RequireAuthorization(KefuPolicies.ForScope(Scopes.ContactsWrite));
        group.MapGet("/{contactId}/erasure", StatusAsync).RequireAuthorization(KefuPolicies.ForScope(Scopes.ContactsWrite));
        return app;
    }

    private static async Task<IResult> ExportAsync(string contactId, ClaimsPrincipal user, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var tenant = user.ToCaller().Tenant;
        if (!Ulid.TryParse(contactId, out _) || await grains.GetGrain<IContactGrain>(Tenancy.Key(tenant, contactId)).Get() is null)
        {
            return NotFound();
        }

        var exporter = grains.GetGrain<IContactExportGrain>(tenant);
        return Results.Stream(body => WriteZipAsync(exporter.Export(contactId, cancellationToken), body, cancellationToken),
            "application/zip", $"contact-{contactId}.zip");
    }

    /// <summary>
    /// Writes the chunks into a zip on the response as they arrive: one entry open at a time, nothing buffered beyond the
    /// compressor's window. A failure mid-way aborts the response, so the client never takes a cut zip for a whole one.
    /// </summary>
    private static async Task WriteZipAsync(IAsyncEnumerable<ExportChunk> chunks, Stream body, CancellationToken cancellationToken)
    {
        await using var zip = await ZipArchive.CreateAsync(body, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, cancellationToken);
        Stream? entry = null;
        try
        {
            await foreach (var chunk in chunks.WithCancellation(cancellationToken))
            {
                if (chunk.Path is { } path)
                {
                    if (entry is not null)
                    {
                        await entry.DisposeAsync();
                    }

                    entry = await zip.CreateEntry(path, CompressionLevel.Fastest).OpenAsync(cancellationToken);
                }

                if (entry is null)
                {
                    throw new InvalidOperationException("An export chunk arrived before its file's name.");
                }

                await entry.WriteAsync(chunk.Data, cancellationToken);
            }
        }
        finally
        {
            if (entry is not null)
            {
                await entry.DisposeAsync();
            }
        }
    }

    private static async Task<Results<NoContent, Accepted<ErasureStatusDto>, ProblemHttpResult>> EraseAsync(
        string contactId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var caller = user.ToCaller();
        if (!Ulid.TryParse(contactId, out _)
            || await grains.GetGrain<IContactErasureGrain>(Tenancy.Key(caller.Tenant, contactId)).Erase(Causation.Of(caller), SynchronousBudget) is not { } status)
        {
            return NotFound();
        }

        return status.Completed ? TypedResults.NoContent() : TypedResults.Accepted(StatusUrl(contactId), ErasureStatusDto.From(status));
    }

    private static async Task<Results<Ok<ErasureStatusDto>, ProblemHttpResult>> StatusAsync(string contactId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Ulid.TryParse(contactId, out _)
            || await grains.GetGrain<IContactErasureGrain>(Tenancy.Key(user.ToCaller().Tenant, contactId)).GetStatus() is not { } status)
        {
            return Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "No erasure of this contact was asked for.");
        }

        return TypedResults.Ok(ErasureStatusDto.From(status));
    }

    public static string StatusUrl(string contactId) => $"/api/v1/contacts/{contactId}/erasure";

    private static ProblemHttpResult NotFound() =>
        Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Contact was not found.");
}

/// <summary>An erasure's status: <c>running</c> or <c>completed</c>, what each store erased, which stores are still to do.</summary>
public sealed record ErasureStatusDto(
    string ContactId, string Status, DateTime RequestedAt, DateTime? CompletedAt, Dictionary<string, long> Erased, string[] Pending, int Attempts)
{
    public static ErasureStatusDto From(ErasureStatus s) => new(
        s.ContactId, s.Completed ? "completed" : "running", s.RequestedAt.UtcDateTime, s.CompletedAt?.UtcDateTime, s.Erased, s.Pending, s.Attempts);
}
