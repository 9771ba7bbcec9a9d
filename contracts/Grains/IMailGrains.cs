namespace Kefu.Contracts.Grains;

/// <summary>
/// One outgoing mail, keyed "{tenant}/{mailId}" (mailId a ULID, the one in its bounce address: see
/// <c>Kefu.Contracts.Email.MailTokens</c>). It sends, retries and records the outcome; the inbound mail receiver tells
/// it when a bounce (delivery status notification) names it.
/// </summary>
public interface IOutboundMailGrain : IGrainWithStringKey
{
    /// <summary>The receiving side gave up on the mail (a bounce): it is marked failed and the failure is shown.</summary>
    Task Bounced(string reason);
}
