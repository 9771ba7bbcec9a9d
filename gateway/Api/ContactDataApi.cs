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
        group.MapGet("/{contactId}/export", ExportAsync).RequireAuthorization(KefuPolicies.ForScope(Scopes.ContactsRead))
            .WithSummary("Export a contact's data").WithDescription(
                "A zip of everything Kefu holds about the contact (contact.json, visitors/, conversations/ with messages and notes, attachments/, events.json, and every other store's part), streamed. Admin or contacts:read. docs/data-protection.md.")
            .Produces(StatusCodes.Status200OK, contentType: "application/zip").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{contactId}", EraseAsync).RequireAuthorization(KefuPolicies.ForScope(Scopes.ContactsWrite))
            .WithSummary("Erase a contact's data").WithDescription(
                "Erases the contact, its visitors, conversations, messages, notes, attachments and the personal fields of its events; a contact.erased audit event remains. 204 when done within the request, else 202 with the status URL in Location (a reminder finishes it; asking again resumes it). Admin or contacts:write. docs/data-protection.md.");
        group.MapGet("/{contactId}/erasure", StatusAsync).RequireAuthorization(KefuPolicies.ForScope(Scopes.ContactsWrite))
            .WithSummary("An erasure's status").WithDescription("running or completed, the records erased per store and the stores still to do.");
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
    /// Writes the chunks into a zip on the response as they arrive: one entry open at a time, nothing buffered beyond one
    /// chunk's compressed bytes. ZipArchive writes synchronously (even its async API, for a data descriptor), which
    /// Kestrel refuses: it writes into <see cref="DrainedStream"/>, emptied to the response asynchronously after each
    /// chunk. A failure mid-way aborts the response, so the client never takes a cut zip for a whole one.
    /// </summary>
    private static async Task WriteZipAsync(IAsyncEnumerable<ExportChunk> chunks, Stream body, CancellationToken cancellationToken)
    {
        var output = new DrainedStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            Stream? entry = null;
            try
            {
                await foreach (var chunk in chunks.WithCancellation(cancellationToken))
                {
                    if (chunk.Path is { } path)
                    {
                        entry?.Dispose();
                        entry = zip.CreateEntry(path, CompressionLevel.Fastest).Open();
                    }

                    if (entry is null)
                    {
                        throw new InvalidOperationException("An export chunk arrived before its file's name.");
                    }

                    entry.Write(chunk.Data);
                    await output.DrainToAsync(body, cancellationToken);
                }
            }
            finally
            {
                entry?.Dispose();
            }
        }

        await output.DrainToAsync(body, cancellationToken); // the last entry's end and the central directory
    }

    /// <summary>A write-only, forward-only stream that keeps what is written until it is drained to another stream.</summary>
    private sealed class DrainedStream : Stream
    {
        private readonly MemoryStream _pending = new();
        private long _position;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _pending.Write(buffer);
            _position += buffer.Length;
        }

        public async Task DrainToAsync(Stream destination, CancellationToken cancellationToken)
        {
            if (_pending.Length > 0)
            {
                await destination.WriteAsync(_pending.GetBuffer().AsMemory(0, (int)_pending.Length), cancellationToken);
                _pending.SetLength(0);
            }
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
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
