using System.Security.Claims;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Kefu.Grains.Webhooks;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>
/// Outbound webhook endpoints (INTEGRATION.md §5, docs/integration.md §10), scope <c>webhooks:manage</c>: create (the
/// secret is answered once), list, read, change, delete, rotate the secret, the attempt log, replay from a cursor and
/// retry one delivery. Delivery itself runs on the silos (<c>WebhookEndpointGrain</c>).
/// </summary>
public static class WebhooksApi
{
    public const int DefaultDeliveries = 50;
    public const int MaxDeliveries = 200;

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/webhooks").WithTags("webhooks").RequireAuthorization(KefuPolicies.ForScope(Scopes.WebhooksManage));
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id}", GetAsync);
        group.MapPatch("/{id}", UpdateAsync);
        group.MapDelete("/{id}", DeleteAsync);
        group.MapPost("/{id}/rotate-secret", RotateAsync);
        group.MapGet("/{id}/deliveries", DeliveriesAsync);
        group.MapPost("/{id}/replay", ReplayAsync);
        group.MapPost("/{id}/deliveries/{deliveryId}/retry", RetryAsync);
        return app;
    }

    private static async Task<Results<Created<WebhookDto>, ProblemHttpResult>> CreateAsync(WebhookCreateRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (request?.Url is not { } url)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, ErrorCodes.MissingField, "url is required.");
        }

        if (request.Events is not { Length: > 0 } events)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, ErrorCodes.MissingField, "events is required: event types or [\"*\"].");
        }

        var caller = user.ToCaller();
        if ((await grains.GetGrain<IWebhookDirectoryGrain>(caller.Tenant).List()).Length >= WebhookRules.MaxEndpoints)
        {
            return Problems.Create(StatusCodes.Status409Conflict, WebhookRules.TooManyEndpoints,
                $"A tenant may have at most {WebhookRules.MaxEndpoints} webhook endpoints; delete one first.");
        }

        var id = Ulid.NewUlid().ToString();
        var outcome = await Endpoint(grains, caller.Tenant, id).Create(new WebhookEndpointDraft(url, events, request.Inboxes, request.Description), Causation.Of(caller));
        return outcome.Value is { } created
            ? TypedResults.Created($"/api/v1/webhooks/{id}", WebhookDto.From(created.View, created.Secret))
            : Problems.From(outcome.Error!);
    }

    private static async Task<Ok<WebhookListResponse>> ListAsync(ClaimsPrincipal user, IGrainFactory grains)
    {
        var tenant = user.ToCaller().Tenant;
        var ids = await grains.GetGrain<IWebhookDirectoryGrain>(tenant).List();
        var views = await Task.WhenAll(ids.Select(id => Endpoint(grains, tenant, id).Get()));
        return TypedResults.Ok(new WebhookListResponse([.. views.OfType<WebhookEndpointView>().Select(v => WebhookDto.From(v, null))]));
    }

    private static async Task<Results<Ok<WebhookDto>, ProblemHttpResult>> GetAsync(string id, ClaimsPrincipal user, IGrainFactory grains) =>
        IsId(id) && await Endpoint(grains, user.ToCaller().Tenant, id).Get() is { } view ? TypedResults.Ok(WebhookDto.From(view, null)) : NotFound();

    private static async Task<Results<Ok<WebhookDto>, ProblemHttpResult>> UpdateAsync(string id, WebhookPatchRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!IsId(id))
        {
            return NotFound();
        }

        if (request is null)
        {
            return Problems.Invalid("The body must be a JSON object with url, events, inboxes, description or enabled.");
        }

        var caller = user.ToCaller();
        var outcome = await Endpoint(grains, caller.Tenant, id).Update(
            new WebhookEndpointPatch(request.Url, request.Events, request.Inboxes, request.Description, request.Enabled), Causation.Of(caller));
        return outcome.Value is { } view ? TypedResults.Ok(WebhookDto.From(view, null)) : Problems.From(outcome.Error!);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, ClaimsPrincipal user, IGrainFactory grains) =>
        IsId(id) && await Endpoint(grains, user.ToCaller().Tenant, id).Delete() ? TypedResults.NoContent() : NotFound();

    private static async Task<Results<Ok<WebhookDto>, ProblemHttpResult>> RotateAsync(string id, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!IsId(id))
        {
            return NotFound();
        }

        var outcome = await Endpoint(grains, user.ToCaller().Tenant, id).RotateSecret();
        return outcome.Value is { } rotated ? TypedResults.Ok(WebhookDto.From(rotated.View, rotated.Secret)) : Problems.From(outcome.Error!);
    }

    private static async Task<Results<Ok<DeliveryListResponse>, ProblemHttpResult>> DeliveriesAsync(
        string id, string? status, int? limit, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (status is not (null or WebhookDelivery.Succeeded or WebhookDelivery.Failed))
        {
            return Problems.Invalid("status must be succeeded or failed.");
        }

        if (limit is < 1 or > MaxDeliveries)
        {
            return Problems.Invalid($"limit must be from 1 to {MaxDeliveries}.");
        }

        var endpoint = Endpoint(grains, user.ToCaller().Tenant, id);
        if (!IsId(id) || await endpoint.Get() is null)
        {
            return NotFound();
        }

        var deliveries = await endpoint.GetDeliveries(status, limit ?? DefaultDeliveries);
        return TypedResults.Ok(new DeliveryListResponse([.. deliveries.Select(DeliveryDto.From)]));
    }

    private static async Task<Results<Accepted<ReplayResponse>, ProblemHttpResult>> ReplayAsync(string id, ReplayRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!IsId(id))
        {
            return NotFound();
        }

        if (!EventCursor.TryParse(request?.After, out var after))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, EventsApi.InvalidCursor, "after must be an event cursor (16 lower-case hex digits) from an envelope.");
        }

        var outcome = await Endpoint(grains, user.ToCaller().Tenant, id).Replay(after);
        return outcome.IsOk ? TypedResults.Accepted((string?)null, new ReplayResponse(EventCursor.Format(after))) : Problems.From(outcome.Error!);
    }

    private static async Task<Results<Accepted, ProblemHttpResult>> RetryAsync(string id, string deliveryId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!IsId(id))
        {
            return NotFound();
        }

        var outcome = await Endpoint(grains, user.ToCaller().Tenant, id).Retry(deliveryId);
        return outcome.IsOk ? TypedResults.Accepted((string?)null) : Problems.From(outcome.Error!);
    }

    private static IWebhookEndpointGrain Endpoint(IGrainFactory grains, string tenant, string id) =>
        grains.GetGrain<IWebhookEndpointGrain>(Tenancy.Key(tenant, id));

    /// <summary>Endpoint ids are ULIDs: anything else is not one of ours (and activates no grain).</summary>
    private static bool IsId(string id) => Ulid.TryParse(id, out _);

    private static ProblemHttpResult NotFound() => Problems.From(KefuError.NotFound("Webhook endpoint"));
}

public sealed record WebhookCreateRequest(string? Url, string[]? Events, string[]? Inboxes, string? Description);

public sealed record WebhookPatchRequest(string? Url, string[]? Events, string[]? Inboxes, string? Description, bool? Enabled);

public sealed record ReplayRequest(string? After);

public sealed record ReplayResponse(string After);

/// <summary>An endpoint as the API shows it; <see cref="Secret"/> only in the answers to create and rotate-secret.</summary>
public sealed record WebhookDto(
    string Id,
    string Url,
    string[] Events,
    string[]? Inboxes,
    string? Description,
    bool Enabled,
    string? DisabledReason,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string Cursor,
    int PendingRetries,
    DateTimeOffset? FailingSince,
    DateTimeOffset? CircuitOpenUntil,
    DateTimeOffset? LastSuccessAt,
    DateTimeOffset? SecretRotatedAt,
    string? Secret)
{
    public static WebhookDto From(WebhookEndpointView view, string? secret)
    {
        var e = view.Endpoint;
        return new(e.Id, e.Url, e.Events, e.Inboxes, e.Description, e.Enabled, e.DisabledReason, e.CreatedAt, e.UpdatedAt,
            EventCursor.Format(view.Cursor), view.PendingRetries, view.FailingSince, view.CircuitOpenUntil, view.LastSuccessAt, view.SecretRotatedAt, secret);
    }
}

public sealed record WebhookListResponse(WebhookDto[] Webhooks);

public sealed record DeliveryDto(
    string Id,
    string EventId,
    string EventType,
    string Cursor,
    int Attempt,
    string Status,
    int? HttpStatus,
    int LatencyMs,
    string? ResponseExcerpt,
    string? Error,
    DateTimeOffset At,
    DateTimeOffset? NextAttemptAt,
    bool Final)
{
    public static DeliveryDto From(WebhookDelivery d) =>
        new(d.Id, d.EventId, d.EventType, EventCursor.Format(d.Cursor), d.Attempt, d.Status, d.HttpStatus, d.LatencyMs, d.ResponseExcerpt,
            d.Error, d.At, d.NextAttemptAt, d.Final);
}

public sealed record DeliveryListResponse(DeliveryDto[] Deliveries);
