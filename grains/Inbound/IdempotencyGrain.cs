using Kefu.Contracts.Grains;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Inbound;

[GenerateSerializer]
public sealed class IdempotencyState
{
    [Id(0)] public string? Fingerprint { get; set; }

    [Id(1)] public StoredResponse? Response { get; set; }

    [Id(2)] public DateTimeOffset StoredAt { get; set; }
}

/// <summary>
/// One <c>Idempotency-Key</c> (INTEGRATION.md §3, last point). Only successful answers are stored (durably); a request
/// that failed leaves nothing, so its retry runs again. The running request's claim is in memory only: if the gateway
/// running it dies, the claim lapses after the lease and a retry may run.
/// </summary>
[CollectionAgeLimit(Minutes = 2)]
public sealed class IdempotencyGrain(
    [PersistentState("idempotency", KefuStorage.Name)] IPersistentState<IdempotencyState> state,
    IOptions<InboundOptions> options,
    TimeProvider time) : Grain, IIdempotencyGrain
{
    private string? _running;
    private DateTimeOffset _runningSince;

    public Task<IdempotencyBegin> Begin(string fingerprint)
    {
        var now = time.GetUtcNow();
        var s = state.State;
        if (s.Response is { } response && InboundRecords.IsCurrent(s.StoredAt, now, options.Value.IdempotencyRetention))
        {
            return Task.FromResult(string.Equals(s.Fingerprint, fingerprint, StringComparison.Ordinal)
                ? new IdempotencyBegin(IdempotencyDecision.Replay, response)
                : new IdempotencyBegin(IdempotencyDecision.Mismatch, null));
        }

        if (_running is { } running && now - _runningSince < options.Value.IdempotencyLease)
        {
            return Task.FromResult(new IdempotencyBegin(
                string.Equals(running, fingerprint, StringComparison.Ordinal) ? IdempotencyDecision.InProgress : IdempotencyDecision.Mismatch, null));
        }

        _running = fingerprint;
        _runningSince = now;
        return Task.FromResult(new IdempotencyBegin(IdempotencyDecision.Proceed, null));
    }

    public async Task Complete(string fingerprint, StoredResponse response)
    {
        state.State.Fingerprint = fingerprint;
        state.State.Response = response;
        state.State.StoredAt = time.GetUtcNow();
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // An answer whose write failed is not kept (the next activation reads what is stored).
            DeactivateOnIdle();
            throw;
        }
        finally
        {
            Release(fingerprint);
        }
    }

    public Task Abandon(string fingerprint)
    {
        Release(fingerprint);
        return Task.CompletedTask;
    }

    private void Release(string fingerprint)
    {
        if (string.Equals(_running, fingerprint, StringComparison.Ordinal))
        {
            _running = null;
        }
    }
}
