using System.Text.Json;
using System.Text.Json.Nodes;
using Kefu.Contracts.Grains;
using Kefu.Grains.Crm;

namespace Kefu.Grains.Tests.Crm;

/// <summary>The plain pieces of CRM sync, without a cluster: fields and hashes, bodies and read-backs, backoff, policies, configuration.</summary>
public sealed class CrmRulesTests
{
    private static readonly Dictionary<string, string> Mapping = new(StringComparer.Ordinal)
    {
        ["name"] = "firstname",
        ["email"] = "email",
        ["attributes.plan"] = "plan",
    };

    [Fact]
    public void The_body_puts_each_field_at_its_path_with_the_constants_and_the_read_back_finds_them_there()
    {
        var mapped = CrmFields.Mapped(new Dictionary<string, string> { ["name"] = "Ann", ["email"] = "a@x", ["contactId"] = "01J" }, Mapping);
        var body = JsonNode.Parse(CrmFields.Body(mapped, Mapping, new Dictionary<string, string> { ["inputs.0.id"] = "\"{id}\"", ["kind"] = "1" }, "inputs.0.properties", "01J\"x"))!;

        Assert.Equal("01J\"x", (string?)body["inputs"]![0]!["id"]);
        Assert.Equal(1, (int)body["kind"]!);
        var properties = body["inputs"]![0]!["properties"]!;
        Assert.Equal("Ann", (string?)properties["firstname"]);
        Assert.Null(properties["plan"]); // absent locally: sent as null so the CRM clears it
        Assert.True(properties.AsObject().ContainsKey("plan"));

        using var answer = JsonDocument.Parse("""{"properties":{"firstname":"Ann","email":"a@x","plan":null,"other":"x"}}""");
        var read = CrmFields.ReadBack(answer.RootElement, Mapping, "properties");
        Assert.Equal(CrmFields.Hash(mapped), CrmFields.Hash(read));
    }

    [Fact]
    public void Hashes_are_equal_exactly_when_the_mapped_values_are()
    {
        var a = new SortedDictionary<string, string?>(StringComparer.Ordinal) { ["email"] = "a@x", ["name"] = "Ann", ["plan"] = null };
        var same = new Dictionary<string, string?> { ["name"] = "Ann", ["email"] = "a@x" };
        var other = new Dictionary<string, string?> { ["name"] = "Ann", ["email"] = "A@x" };

        Assert.Equal(CrmFields.Hash(a), CrmFields.Hash(same));
        Assert.NotEqual(CrmFields.Hash(a), CrmFields.Hash(other));
    }

    [Fact]
    public void Read_backs_take_numbers_and_booleans_as_their_json_text_and_index_arrays()
    {
        using var answer = JsonDocument.Parse("""{"a":{"n":12,"b":true,"list":[{"x":"first"}]}}""");
        var read = CrmFields.ReadBack(answer.RootElement, new Dictionary<string, string> { ["n"] = "a.n", ["b"] = "a.b", ["x"] = "a.list.0.x", ["gone"] = "a.list.3.x" });

        Assert.Equal("12", read["n"]);
        Assert.Equal("true", read["b"]);
        Assert.Equal("first", read["x"]);
        Assert.Null(read["gone"]);
    }

    [Theory]
    [InlineData(1, 0.999, 100)]
    [InlineData(2, 0.999, 200)]
    [InlineData(4, 0.999, 800)]
    [InlineData(30, 0.999, 1000)]
    [InlineData(3, 0.0, 0)]
    public void Backoff_is_full_jitter_under_an_exponential_cap(int attempt, double sample, int maxMs)
    {
        var retry = new CrmRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) };

        var delay = CrmBackoff.Delay(retry, attempt, null, sample);

        Assert.InRange(delay.TotalMilliseconds, 0, maxMs);
        Assert.True(delay.TotalMilliseconds >= maxMs * sample - 1);
    }

    [Fact]
    public void Retry_after_is_a_floor_for_the_backoff()
    {
        var retry = new CrmRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) };

        Assert.Equal(TimeSpan.FromSeconds(30), CrmBackoff.Delay(retry, 1, TimeSpan.FromSeconds(30), 0.5));
    }

    [Theory]
    [InlineData(CrmPolicies.KefuWins, null, false)]
    [InlineData(CrmPolicies.CrmWins, "crm@x", false)]
    [InlineData(CrmPolicies.NewestWins, "crm@x", false)] // the CRM's record is newer
    [InlineData(CrmPolicies.Manual, null, true)]
    public void A_field_changed_on_both_sides_goes_by_its_policy(string policy, string? adopted, bool manual)
    {
        var local = new Dictionary<string, string?> { ["email"] = "kefu@x", ["name"] = "Ann" };
        var crm = new Dictionary<string, string?> { ["email"] = "crm@x", ["name"] = "Ann" };
        var confirmed = new Dictionary<string, string?> { ["email"] = "old@x", ["name"] = "Ann" };

        var decision = CrmConflicts.Decide(local, crm, confirmed, _ => policy, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(1));

        Assert.Equal(adopted, decision.Adopt.GetValueOrDefault("email"));
        Assert.Equal(manual, decision.Manual.Count == 1);
    }

    [Fact]
    public void Only_fields_the_crm_changed_since_the_confirmation_are_conflicts_and_ids_always_push()
    {
        var local = new Dictionary<string, string?> { ["email"] = "kefu@x", ["externalId"] = "u-1", ["name"] = "Ann" };
        var crm = new Dictionary<string, string?> { ["email"] = "old@x", ["externalId"] = "u-2", ["name"] = "Anne" };
        var confirmed = new Dictionary<string, string?> { ["email"] = "old@x", ["externalId"] = "u-1", ["name"] = "Anne" };

        var decision = CrmConflicts.Decide(local, crm, confirmed, _ => CrmPolicies.Manual, DateTimeOffset.UtcNow, null);

        // email: only Kefu changed it; name: the CRM kept what was confirmed (Kefu changed it); externalId: not writable.
        Assert.Empty(decision.Manual);
        Assert.Empty(decision.Adopt);
    }

    [Fact]
    public void Newest_wins_keeps_kefu_when_kefu_is_newer_or_the_crm_gives_no_time()
    {
        var local = new Dictionary<string, string?> { ["email"] = "kefu@x" };
        var crm = new Dictionary<string, string?> { ["email"] = "crm@x" };
        var confirmed = new Dictionary<string, string?> { ["email"] = "old@x" };

        Assert.Empty(CrmConflicts.Decide(local, crm, confirmed, _ => CrmPolicies.NewestWins, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(-1)).Adopt);
        Assert.Empty(CrmConflicts.Decide(local, crm, confirmed, _ => CrmPolicies.NewestWins, DateTimeOffset.UtcNow, null).Adopt);
    }

    [Fact]
    public void Configuration_problems_name_their_keys()
    {
        var options = new CrmOptions();
        options.Connectors["bad/name"] = new CrmConnectorOptions
        {
            BaseUrl = "ftp://x",
            Contacts = new CrmRecordOptions
            {
                Upsert = new CrmOperationOptions { Path = "/c/{id}" },
                Fields = new Dictionary<string, string> { ["shoeSize"] = "shoe", ["email"] = "" },
                Policies = new Dictionary<string, string> { ["email"] = "loudest_wins" },
            },
        };

        var problems = options.Problems().ToList();

        Assert.Contains(problems, p => p.Contains("a CRM name is 1-64 characters", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("BaseUrl must be an absolute http(s) URL", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Contacts needs Upsert and Get", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Fields:shoeSize is not a field Kefu has", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Fields:email needs the CRM's field path", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Policies:email must be one of", StringComparison.Ordinal));
    }

    [Fact]
    public void A_salesforce_time_without_a_colon_in_its_offset_is_read()
    {
        using var record = JsonDocument.Parse("""{"LastModifiedDate":"2026-12-07T06:00:00.000+0000"}""");

        Assert.Equal(new DateTimeOffset(2026, 12, 7, 6, 0, 0, TimeSpan.Zero), CrmSyncAttempt.UpdatedAt(record.RootElement, "LastModifiedDate"));
    }

    [Fact]
    public async Task A_429_pauses_every_request_to_the_crm_until_its_retry_after()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        using var throttle = new CrmThrottle(new CrmConnectorOptions(), time);
        Assert.True(await throttle.WaitTurnAsync(CancellationToken.None)); // no limit, no pause: at once

        throttle.Answered(429, TimeSpan.FromSeconds(30));
        var turn = throttle.WaitTurnAsync(CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(turn.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await turn.WaitAsync(TimeSpan.FromSeconds(10)));

        throttle.Answered(500, TimeSpan.FromSeconds(30)); // a plain failure is the record's business, not a pause
        throttle.Answered(503, null);
        Assert.Null(throttle.PausedUntil);
        throttle.Answered(429, null); // no Retry-After: a second
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(1), throttle.PausedUntil);
    }

    [Fact]
    public void Contacts_and_conversations_have_their_own_fields()
    {
        Assert.True(CrmFields.IsKnown(CrmRecordKinds.Contact, "attributes.plan"));
        Assert.False(CrmFields.IsKnown(CrmRecordKinds.Contact, "attributes."));
        Assert.True(CrmFields.IsKnown(CrmRecordKinds.Conversation, "transcript"));
        Assert.False(CrmFields.IsKnown(CrmRecordKinds.Conversation, "email"));
    }
}
