using System.Security.Claims;
using System.Text.Json;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Kefu.Grains.Retention;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>
/// A tenant's retention policy (issue #20, docs/data-protection.md "Retention"), admins only: how many days messages,
/// attachments and events are kept (null: the global default). The gateway checks the body's shape; the policy grain
/// owns the rules (1..3650 days, events not past <c>Kefu:Events:Retention</c>) and answers what they mean.
/// </summary>
public static class RetentionApi
{
    private const int MaxBodyBytes = 4 * 1024;

    private static readonly string[] Fields = ["messagesDays", "attachmentsDays", "eventsDays"];

    public static IEndpointRouteBuilder MapRetentionApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/retention").WithTags("retention").RequireAuthorization(KefuPolicies.Admin);
        group.MapGet("/", GetAsync)
            .WithDescription("The tenant's retention policy: `messagesDays`, `attachmentsDays`, `eventsDays` as set (null: the default) " +
                "and `effective` (what applies, null: kept forever), with `limits` and who changed it when.");
        group.MapPut("/", PutAsync)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithDescription("Replaces the policy: a JSON object with `messagesDays`, `attachmentsDays`, `eventsDays`, each an integer " +
                $"{RetentionRules.MinDays}..{RetentionRules.MaxDays} or null (a missing field is null: the default). `eventsDays` may not exceed " +
                $"the global event retention. Refusals: 400 `{ErrorCodes.InvalidField}`, `{JsonBody.InvalidJson}`. The retention job applies it on its next run.");
        return app;
    }

    private static async Task<Ok<RetentionDto>> GetAsync(ClaimsPrincipal user, IGrainFactory grains) =>
        TypedResults.Ok(RetentionDto.From(await grains.GetGrain<IRetentionPolicyGrain>(user.ToCaller().Tenant).Get()));

    private static async Task<Results<Ok<RetentionDto>, ProblemHttpResult>> PutAsync(HttpContext context, ClaimsPrincipal user, IGrainFactory grains)
    {
        var (body, tooLarge) = await JsonBody.ReadAsync(context.Request, MaxBodyBytes, context.RequestAborted);
        if (tooLarge is not null)
        {
            return tooLarge;
        }

        var (document, invalid) = JsonBody.ParseObject(body!);
        if (invalid is not null)
        {
            return invalid;
        }

        using (document)
        {
            var values = new int?[Fields.Length];
            foreach (var property in document!.RootElement.EnumerateObject())
            {
                var index = Array.IndexOf(Fields, property.Name);
                if (index < 0)
                {
                    return Problems.Invalid($"Unknown field '{property.Name}'; expected {string.Join(", ", Fields)}.");
                }

                switch (property.Value.ValueKind)
                {
                    case JsonValueKind.Null:
                        break;
                    case JsonValueKind.Number when property.Value.TryGetInt32(out var days):
                        values[index] = days;
                        break;
                    default:
                        return Problems.Invalid($"{property.Name} must be a whole number of days or null.");
                }
            }

            var caller = user.ToCaller();
            var outcome = await grains.GetGrain<IRetentionPolicyGrain>(caller.Tenant)
                .Set(new RetentionPolicy(values[0], values[1], values[2]), caller.Id);
            return outcome.IsOk ? TypedResults.Ok(RetentionDto.From(outcome.Value!)) : Problems.From(outcome.Error!);
        }
    }
}

public sealed record RetentionDto(
    int? MessagesDays,
    int? AttachmentsDays,
    int? EventsDays,
    RetentionEffectiveDto Effective,
    RetentionLimitsDto Limits,
    DateTimeOffset? UpdatedAt,
    string? UpdatedBy)
{
    public static RetentionDto From(RetentionPolicyView view) => new(
        view.Policy.MessagesDays,
        view.Policy.AttachmentsDays,
        view.Policy.EventsDays,
        new RetentionEffectiveDto(view.EffectiveMessagesDays, view.EffectiveAttachmentsDays, view.EffectiveEventsDays),
        new RetentionLimitsDto(RetentionRules.MinDays, RetentionRules.MaxDays, view.MaxEventsDays),
        view.UpdatedAt,
        view.UpdatedBy);
}

/// <summary>What applies with the defaults filled in; null: kept forever.</summary>
public sealed record RetentionEffectiveDto(int? MessagesDays, int? AttachmentsDays, int EventsDays);

public sealed record RetentionLimitsDto(int MinDays, int MaxDays, int MaxEventsDays);
