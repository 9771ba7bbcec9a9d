using Kefu.Contracts.Identity;

namespace Kefu.Grains.Crm;

/// <summary>CRM sync configuration (<c>Kefu:Crm</c>, docs/crm.md): the CRMs by name, and secrets by reference.</summary>
public sealed class CrmOptions
{
    public const string Section = "Kefu:Crm";

    /// <summary>The CRMs records are synced to, by name (the name is part of each record's key: keep it stable).</summary>
    public Dictionary<string, CrmConnectorOptions> Connectors { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Auth secrets by reference (<c>Auth:SecretRef</c>): <c>Kefu:Crm:Secrets:{ref}</c>. Never logged, never listed.</summary>
    public Dictionary<string, string> Secrets { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How often a tenant's trigger looks for changes nobody woke it for (made on another silo).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Events the trigger reads at once.</summary>
    public int BatchSize { get; set; } = 200;

    /// <summary>
    /// How often in-sync records are read back from the CRM again (the reconciliation sweep: catches edits made in the CRM
    /// and records whose trigger was lost). Zero: never.
    /// </summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromHours(6);

    public IEnumerable<(string Name, CrmConnectorOptions Connector)> ForTenant(string tenant) =>
        Connectors.Where(c => string.Equals(c.Value.Tenant, tenant, StringComparison.Ordinal)).Select(c => (c.Key, c.Value));

    /// <summary>Problems with the configuration, each naming its key (empty: usable).</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var (name, c) in Connectors)
        {
            var at = $"{Section}:Connectors:{name}";
            if (name.Contains('/', StringComparison.Ordinal) || name.Length is 0 or > 64)
            {
                yield return $"{at}: a CRM name is 1-64 characters without '/'.";
            }

            if (!Uri.TryCreate(c.BaseUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                yield return $"{at}:BaseUrl must be an absolute http(s) URL.";
            }

            if (c.Auth is { } auth && (string.IsNullOrEmpty(auth.Header) || string.IsNullOrEmpty(auth.SecretRef)))
            {
                yield return $"{at}:Auth needs Header and SecretRef.";
            }

            if (c.Contacts is null && c.Conversations is null)
            {
                yield return $"{at}: configure Contacts and/or Conversations (what syncs).";
            }

            foreach (var (kind, record) in new[] { ("Contacts", c.Contacts), ("Conversations", c.Conversations) })
            {
                if (record is null)
                {
                    continue;
                }

                if (record.Upsert is null || string.IsNullOrEmpty(record.Upsert.Path) || record.Get is null || string.IsNullOrEmpty(record.Get.Path))
                {
                    yield return $"{at}:{kind} needs Upsert and Get operations with a Path (the record is read back to verify it).";
                }

                if (record.Fields.Count == 0)
                {
                    yield return $"{at}:{kind}:Fields maps no field.";
                }

                foreach (var (field, path) in record.Fields)
                {
                    if (!CrmFields.IsKnown(kind == "Contacts" ? Contracts.Grains.CrmRecordKinds.Contact : Contracts.Grains.CrmRecordKinds.Conversation, field))
                    {
                        yield return $"{at}:{kind}:Fields:{field} is not a field Kefu has (docs/crm.md lists them).";
                    }

                    if (string.IsNullOrWhiteSpace(path))
                    {
                        yield return $"{at}:{kind}:Fields:{field} needs the CRM's field path.";
                    }
                }

                foreach (var (field, policy) in record.Policies)
                {
                    if (!CrmPolicies.IsKnown(policy))
                    {
                        yield return $"{at}:{kind}:Policies:{field} must be one of {string.Join(", ", CrmPolicies.All)}.";
                    }
                }
            }

            if (!CrmPolicies.IsKnown(c.DefaultPolicy))
            {
                yield return $"{at}:DefaultPolicy must be one of {string.Join(", ", CrmPolicies.All)}.";
            }

            if (c.RequestsPerSecond < 0)
            {
                yield return $"{at}:RequestsPerSecond must not be negative (0 = no limit).";
            }

            if (c.StepTimeout <= TimeSpan.Zero || c.Retry.BaseDelay <= TimeSpan.Zero || c.Retry.MaxDelay < c.Retry.BaseDelay || c.Retry.MaxAttempts < 1 || c.Retry.MaxAge <= TimeSpan.Zero)
            {
                yield return $"{at}: StepTimeout, Retry:BaseDelay and Retry:MaxAge must be positive, Retry:MaxDelay ≥ BaseDelay, Retry:MaxAttempts ≥ 1.";
            }
        }
    }
}

/// <summary>One CRM: where it is, how to authenticate, and how each kind of record maps onto it.</summary>
public sealed class CrmConnectorOptions
{
    /// <summary>Whose records go to this CRM.</summary>
    public string Tenant { get; set; } = Tenancy.DefaultTenant;

    public string BaseUrl { get; set; } = string.Empty;

    public CrmAuthOptions? Auth { get; set; }

    /// <summary>
    /// Requests a second this silo sends this CRM (all records together; 0 = no limit). With several silos each has this
    /// limit: set the CRM's limit divided by the silo count. A 429 pauses requests to the CRM whatever this is.
    /// </summary>
    public double RequestsPerSecond { get; set; }

    /// <summary>What one request may take (an attempt is an upsert and a read-back: two requests).</summary>
    public TimeSpan StepTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Contacts, on create and update (null: contacts are not synced to this CRM).</summary>
    public CrmRecordOptions? Contacts { get; set; }

    /// <summary>Conversations, when resolved, as an activity with their transcript (null: not synced).</summary>
    public CrmRecordOptions? Conversations { get; set; }

    /// <summary>The conflict policy of fields without one of their own (<see cref="CrmPolicies"/>).</summary>
    public string DefaultPolicy { get; set; } = CrmPolicies.KefuWins;

    public CrmRetryOptions Retry { get; set; } = new();

    public CrmCircuitOptions CircuitBreaker { get; set; } = new();
}

/// <summary>The auth header: <c>{Header}: {Prefix}{secret}</c>, the secret from <c>Kefu:Crm:Secrets:{SecretRef}</c>.</summary>
public sealed class CrmAuthOptions
{
    public string Header { get; set; } = "Authorization";

    public string? Prefix { get; set; }

    public string SecretRef { get; set; } = string.Empty;
}

/// <summary>How one kind of record maps onto the CRM.</summary>
public sealed class CrmRecordOptions
{
    /// <summary>
    /// Creates or updates the record by its Kefu-owned id: <c>{id}</c> in the path is the Kefu id (contact or conversation
    /// ULID), so a retried upsert after a lost response updates the same record instead of creating a second.
    /// </summary>
    public CrmOperationOptions? Upsert { get; set; }

    /// <summary>Reads the record back by the same id (404 = not there).</summary>
    public CrmOperationOptions? Get { get; set; }

    /// <summary>
    /// Kefu field → the CRM's field as a dotted JSON path (<c>properties.email</c>): the upsert body is built from these
    /// paths and the read-back is compared at them. Only mapped fields are synced and verified.
    /// </summary>
    public Dictionary<string, string> Fields { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Constant members of every upsert body (dotted path → JSON value; <c>{id}</c> inside a JSON string is the record's Kefu
    /// id), e.g. an activity's type or HubSpot's <c>inputs.0.idProperty</c>.
    /// </summary>
    public Dictionary<string, string> Constants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Per-field conflict policy (Kefu field → <see cref="CrmPolicies"/>); others take the connector's default.</summary>
    public Dictionary<string, string> Policies { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Where the read-back says when the CRM record last changed (for <c>newest_wins</c>), e.g. <c>updatedAt</c>.</summary>
    public string? UpdatedAtPath { get; set; }
}

public sealed class CrmOperationOptions
{
    /// <summary>The HTTP method; unset: <c>PUT</c> for an upsert, <c>GET</c> for a read.</summary>
    public string? Method { get; set; }

    /// <summary>Relative to the base URL; <c>{id}</c> is the record's Kefu id (URL-escaped).</summary>
    public string Path { get; set; } = string.Empty;

    /// <summary>
    /// Where the mapped fields sit in the body (upsert) or the answer (get), as a dotted path (a number indexes an array:
    /// <c>inputs.0.properties</c>); empty: at the top level.
    /// </summary>
    public string? FieldsAt { get; set; }
}

/// <summary>Retries of a record: full-jitter exponential backoff; dead after <see cref="MaxAttempts"/> or <see cref="MaxAge"/>.</summary>
public sealed class CrmRetryOptions
{
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(10);

    public int MaxAttempts { get; set; } = 25;

    /// <summary>Failing for this long (since the first failure of the current run): dead.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(24);
}

/// <summary>Per tenant and CRM (Polly): after enough failures the CRM is left alone for a while instead of hammered.</summary>
public sealed class CrmCircuitOptions
{
    public double FailureRatio { get; set; } = 0.5;

    public int MinimumThroughput { get; set; } = 10;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>What wins when a field changed both in Kefu and in the CRM since the last confirmation.</summary>
public static class CrmPolicies
{
    public const string KefuWins = "kefu_wins";
    public const string CrmWins = "crm_wins";
    public const string NewestWins = "newest_wins";
    public const string Manual = "manual";

    public static readonly string[] All = [KefuWins, CrmWins, NewestWins, Manual];

    public static bool IsKnown(string? policy) => policy is not null && Array.IndexOf(All, policy) >= 0;
}
