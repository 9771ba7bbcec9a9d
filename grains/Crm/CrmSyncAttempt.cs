using System.Globalization;
using System.Text.Json;
using Kefu.Contracts.Grains;

namespace Kefu.Grains.Crm;

/// <summary>How an attempt ended; the grain turns it into the record's next state.</summary>
[GenerateSerializer]
public enum CrmAttemptOutcome
{
    /// <summary>The CRM holds the local fields (verified by reading them back).</summary>
    InSync,

    /// <summary>Failed for now (5xx, 429, timeout, network, an open circuit, or a read-back that differs): retry later.</summary>
    Retry,

    /// <summary>The CRM refused the record (4xx): retrying will not help until something changes.</summary>
    Failed,

    /// <summary>A <c>manual</c> field changed on both sides: a person decides.</summary>
    Conflict,

    /// <summary><c>crm_wins</c> / <c>newest_wins</c> fields to take into Kefu first; the push follows with them.</summary>
    Adopt,
}

/// <summary>An attempt's result, handed back to the record's grain (hence serializable).</summary>
/// <param name="CrmFields">The CRM's values of the mapped fields as read (the baseline for spotting CRM-side edits once in sync).</param>
[GenerateSerializer, Immutable]
public sealed record CrmAttemptResult(
    [property: Id(0)] CrmAttemptOutcome Outcome,
    [property: Id(1)] string? Hash = null,
    [property: Id(2)] Dictionary<string, string?>? CrmFields = null,
    [property: Id(3)] string? Error = null,
    [property: Id(4)] int? HttpStatus = null,
    [property: Id(5)] TimeSpan? RetryAfter = null,
    [property: Id(6)] CrmFieldConflict[]? Conflicts = null,
    [property: Id(7)] Dictionary<string, string?>? Adopt = null,
    [property: Id(8)] int Requests = 0);

/// <summary>What one attempt works with: the record, its CRM, the local snapshot and what was last confirmed.</summary>
public sealed record CrmAttemptInput(
    string Tenant,
    string CrmName,
    CrmConnectorOptions Crm,
    CrmRecordOptions Record,
    string Kind,
    string RecordId,
    CrmSnapshot Local,
    IReadOnlyDictionary<string, string?>? Confirmed,
    IReadOnlySet<string>? Settled);

/// <summary>
/// One attempt to bring a record in sync (docs/crm.md "An attempt"): when the record was confirmed before, read the CRM
/// first — already equal means done without a write, and fields edited in the CRM since go through the conflict
/// policies; then upsert the local fields by the Kefu id; then read the record back and compare hashes. Only equal
/// hashes are success: an accepted write that reads back differently is a failed attempt.
/// </summary>
public sealed class CrmSyncAttempt(CrmConnector connector)
{
    public async Task<CrmAttemptResult> RunAsync(CrmAttemptInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var mapping = input.Record.Fields;
        var local = CrmFields.Mapped(input.Local.Fields, mapping);
        var localHash = CrmFields.Hash(local);
        var requests = 0;

        if (input.Confirmed is { } confirmed)
        {
            requests++;
            var before = await connector.CallAsync(Call(input, input.Record.Get!, body: null, key: null), cancellationToken).ConfigureAwait(false);
            if (before.Outcome is CrmCallOutcome.Retryable or CrmCallOutcome.Permanent)
            {
                return Failure(before, requests);
            }

            if (before is { Outcome: CrmCallOutcome.Ok, Body: { } existing })
            {
                var crm = CrmFields.ReadBack(existing, mapping, input.Record.Get!.FieldsAt);
                if (CrmFields.Hash(crm) == localHash)
                {
                    return new CrmAttemptResult(CrmAttemptOutcome.InSync, localHash, new(crm), Requests: requests);
                }

                if (input.Kind == CrmRecordKinds.Contact)
                {
                    var decision = CrmConflicts.Decide(local, crm, confirmed, f => input.Record.Policies.GetValueOrDefault(f) ?? input.Crm.DefaultPolicy,
                        input.Local.UpdatedAt, UpdatedAt(existing, input.Record.UpdatedAtPath), input.Settled);
                    if (decision.Manual.Count > 0)
                    {
                        return new CrmAttemptResult(CrmAttemptOutcome.Conflict, Conflicts: [.. decision.Manual], CrmFields: new(crm), Requests: requests);
                    }

                    if (decision.Adopt.Count > 0)
                    {
                        return new CrmAttemptResult(CrmAttemptOutcome.Adopt, Adopt: new(decision.Adopt), CrmFields: new(crm), Requests: requests);
                    }
                }
            }

            // 404: the record is gone from the CRM (deleted there): the upsert puts it back.
        }

        requests++;
        var body = CrmFields.Body(local, mapping, input.Record.Constants, input.Record.Upsert!.FieldsAt, input.RecordId);
        var key = string.Create(CultureInfo.InvariantCulture, $"kefu:{input.CrmName}:{input.Kind}:{input.RecordId}:{input.Local.Version}");
        var upsert = await connector.CallAsync(Call(input, input.Record.Upsert!, body, key), cancellationToken).ConfigureAwait(false);
        if (upsert.Outcome != CrmCallOutcome.Ok)
        {
            return Failure(upsert, requests);
        }

        requests++;
        var after = await connector.CallAsync(Call(input, input.Record.Get!, body: null, key: null), cancellationToken).ConfigureAwait(false);
        if (after.Outcome == CrmCallOutcome.NotFound)
        {
            return new CrmAttemptResult(CrmAttemptOutcome.Retry, Error: "the CRM accepted the upsert but does not return the record", HttpStatus: 404, Requests: requests);
        }

        if (after is not { Outcome: CrmCallOutcome.Ok, Body: { } readBack })
        {
            return Failure(after, requests);
        }

        var held = CrmFields.ReadBack(readBack, mapping, input.Record.Get!.FieldsAt);
        if (CrmFields.Hash(held) != localHash)
        {
            var differ = held.Where(f => !string.Equals(f.Value, local.GetValueOrDefault(f.Key), StringComparison.Ordinal)).Select(f => f.Key);
            return new CrmAttemptResult(CrmAttemptOutcome.Retry, Error: "the CRM holds other values for: " + string.Join(", ", differ), HttpStatus: after.Status, Requests: requests);
        }

        return new CrmAttemptResult(CrmAttemptOutcome.InSync, localHash, new(held), Requests: requests);
    }

    private static CrmCall Call(CrmAttemptInput input, CrmOperationOptions operation, byte[]? body, string? key) =>
        new(input.Tenant, input.CrmName, input.Crm, operation, input.RecordId, body, key);

    private static CrmAttemptResult Failure(CrmResponse response, int requests) => response.Outcome == CrmCallOutcome.Permanent
        ? new CrmAttemptResult(CrmAttemptOutcome.Failed, Error: response.Error, HttpStatus: response.Status, Requests: requests)
        : new CrmAttemptResult(CrmAttemptOutcome.Retry, Error: response.Error ?? $"HTTP {response.Status}", HttpStatus: response.Status, RetryAfter: response.RetryAfter, Requests: requests);

    /// <summary>The CRM record's update time: ISO 8601, also with an offset without a colon (Salesforce's <c>+0000</c>).</summary>
    internal static DateTimeOffset? UpdatedAt(JsonElement record, string? path)
    {
        if (path is null || CrmFields.At(record, path) is not { ValueKind: JsonValueKind.String } value || value.GetString() is not { } text)
        {
            return null;
        }

        if (text.Length > 5 && text[^5] is '+' or '-' && text[^4..].All(char.IsAsciiDigit))
        {
            text = text[..^2] + ":" + text[^2..];
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
    }
}
