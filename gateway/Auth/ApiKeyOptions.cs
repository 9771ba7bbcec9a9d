namespace Kefu.Gateway.Auth;

/// <summary>Bound from "Kefu:ApiKeys": the per-key request budget (a token bucket per key and gateway).</summary>
public sealed class ApiKeyOptions
{
    public const string Section = "Kefu:ApiKeys";

    /// <summary>Requests per second one key may make through one gateway, sustained; 0 turns the limit off.</summary>
    public double RequestsPerSecond { get; set; } = 100;

    /// <summary>Requests one key may make at once before <see cref="RequestsPerSecond"/> applies.</summary>
    public int Burst { get; set; } = 200;

    /// <summary>
    /// Refused keys (unknown, wrong, revoked, expired, malformed) per minute from one client address; beyond, keys from
    /// that address are answered 429 without being looked up, so made-up keys cannot make the cluster read storage at
    /// will. 0 turns it off.
    /// </summary>
    public int FailuresPerMinute { get; set; } = 30;
}
