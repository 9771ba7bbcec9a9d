using System.Security.Claims;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>
/// Where records stand in the CRMs (issue #17, docs/crm.md): a contact's sync state per CRM (read like the contact: keys
/// with <c>contacts:read</c>, admins, agents), the tenant's records that are not in sync, and — with <c>contacts:write</c>
/// or as an admin — retrying a record and settling a conflict.
/// </summary>
public static class CrmApi
{
    public const int MaxLimit = 500;

    public static IEndpointRouteBuilder MapCrmApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/contacts/{contactId}/crm", ContactAsync).WithTags("crm").RequireAuthorization(ContactsApi.ReadPolicy);
        var group = app.MapGroup("/api/v1/crm/sync").WithTags("crm");
        group.MapGet("/", ListAsync).RequireAuthorization(KefuPolicies.ForScope(Scopes.ContactsRead));
        group.MapPost("/{crm}/{kind}/{recordId}/retry", RetryAsync).RequireAuthorization(KefuPolicies.ForScope(Scopes.ContactsWrite));
        group.MapPost("/{crm}/{kind}/{recordId}/resolve", ResolveAsync).RequireAuthorization(KefuPolicies.ForScope(Scopes.ContactsWrite));
        return app;
    }

    private static async Task<Results<Ok<ContactCrmResponse>, ProblemHttpResult>> ContactAsync(string contactId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var tenant = user.ToCaller().Tenant;
        if (!Ulid.TryParse(contactId, out _) || await grains.GetGrain<IContactGrain>(Tenancy.Key(tenant, contactId)).Get() is null)
        {
            return Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Contact was not found.");
        }

        var crms = await grains.GetGrain<ICrmSyncIndexGrain>(tenant).Crms(CrmRecordKinds.Contact);
        var views = await Task.WhenAll(crms.Select(async crm =>
            await grains.GetGrain<ICrmSyncGrain>(CrmSyncKeys.Of(tenant, crm, CrmRecordKinds.Contact, contactId)).Get()
            ?? NotYet(crm, CrmRecordKinds.Contact, contactId)));
        return TypedResults.Ok(new ContactCrmResponse(contactId, [.. views.Select(CrmSyncDto.From)]));
    }

    private static async Task<Results<Ok<CrmSyncListResponse>, ProblemHttpResult>> ListAsync(string? status, int? limit, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (status is not null && Array.IndexOf(CrmSyncStates.All, status) < 0)
        {
            return Problems.Invalid($"status must be one of {string.Join(", ", CrmSyncStates.All)}.");
        }

        if (limit is < 1 or > MaxLimit)
        {
            return Problems.Invalid($"limit must be from 1 to {MaxLimit}.");
        }

        var views = await grains.GetGrain<ICrmSyncIndexGrain>(user.ToCaller().Tenant).List(status, limit ?? 100);
        return TypedResults.Ok(new CrmSyncListResponse([.. views.Select(CrmSyncDto.From)]));
    }

    private static async Task<Results<Ok<CrmSyncDto>, ProblemHttpResult>> RetryAsync(string crm, string kind, string recordId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var (grain, problem) = await RecordAsync(crm, kind, recordId, user, grains);
        if (problem is not null)
        {
            return problem;
        }

        return await grain!.Retry() is { } view ? TypedResults.Ok(CrmSyncDto.From(view)) : NotSynced();
    }

    private static async Task<Results<Ok<CrmSyncDto>, ProblemHttpResult>> ResolveAsync(
        string crm, string kind, string recordId, CrmResolveRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (request?.Fields is not { Count: > 0 } fields)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, ErrorCodes.MissingField, "Send {\"fields\": {\"<field>\": \"kefu\" | \"crm\"}} for each field in conflict.");
        }

        var (grain, problem) = await RecordAsync(crm, kind, recordId, user, grains);
        if (problem is not null)
        {
            return problem;
        }

        var outcome = await grain!.Resolve(fields);
        return outcome.Error is { } error ? Problems.From(error) : TypedResults.Ok(CrmSyncDto.From(outcome.Value!));
    }

    /// <summary>The record's grain, when the CRM syncs that kind for the caller's tenant and the id can be a record's.</summary>
    private static async Task<(ICrmSyncGrain? Grain, ProblemHttpResult? Problem)> RecordAsync(string crm, string kind, string recordId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var tenant = user.ToCaller().Tenant;
        if (kind is not (CrmRecordKinds.Contact or CrmRecordKinds.Conversation) || !Ulid.TryParse(recordId, out _)
            || Array.IndexOf(await grains.GetGrain<ICrmSyncIndexGrain>(tenant).Crms(kind), crm) < 0)
        {
            return (null, Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No CRM named {crm} syncs {kind} records here, or the id is not a record's."));
        }

        return (grains.GetGrain<ICrmSyncGrain>(CrmSyncKeys.Of(tenant, crm, kind, recordId)), null);
    }

    private static ProblemHttpResult NotSynced() =>
        Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "The record has not been synced yet (its change is on its way).");

    /// <summary>A record the trigger has not reached yet (just created, or from before the CRM was configured).</summary>
    private static CrmSyncView NotYet(string crm, string kind, string recordId) =>
        new(crm, kind, recordId, CrmSyncStates.Pending, 0, 0, 0, null, null, null, null, null, [], null);
}

/// <summary>A record's sync state in one CRM; versions are the local record's change time (.NET ticks / 10: microseconds).</summary>
public sealed record CrmSyncDto(
    string Crm,
    string Kind,
    string RecordId,
    string State,
    long DesiredVersion,
    long ConfirmedVersion,
    int Attempts,
    DateTimeOffset? LastAttemptAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? InSyncAt,
    string? LastError,
    int? LastHttpStatus,
    CrmConflictDto[] Conflicts,
    DateTimeOffset? FailingSince)
{
    public static CrmSyncDto From(CrmSyncView v) => new(v.Crm, v.Kind, v.RecordId, v.State, v.DesiredVersion, v.ConfirmedVersion, v.Attempts,
        v.LastAttemptAt, v.NextAttemptAt, v.InSyncAt, v.LastError, v.LastHttpStatus, [.. v.Conflicts.Select(c => new CrmConflictDto(c.Field, c.Local, c.Crm))], v.FailingSince);
}

public sealed record CrmConflictDto(string Field, string? Local, string? Crm);

public sealed record ContactCrmResponse(string ContactId, CrmSyncDto[] Records);

public sealed record CrmSyncListResponse(CrmSyncDto[] Records);

/// <summary>Each field in conflict → <c>kefu</c> (push Kefu's value) or <c>crm</c> (take the CRM's into Kefu).</summary>
public sealed record CrmResolveRequest(Dictionary<string, string>? Fields);
