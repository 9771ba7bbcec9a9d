using Kefu.Grains.Email;

namespace Kefu.Grains.Tests.DataProtection;

/// <summary>Which mails a conversation's erasure finds (docs/data-protection.md, "Mail"): recorded ids and those the thread's Message-IDs name.</summary>
public sealed class MailThreadErasureTests
{
    [Fact]
    public void The_mails_are_the_recorded_ones_and_those_named_by_message_ids_of_older_threads()
    {
        var recorded = Ulid.NewUlid().ToString();
        var threaded = Ulid.NewUlid().ToString();
        var unsigned = Ulid.NewUlid().ToString();
        var state = new MailThreadState
        {
            MailIds = [recorded, threaded],
            MessageIds = [$"{threaded}.r-abc.def@reply.kefu.test", $"{unsigned}@kefu.test", "not-a-mail-id@kefu.test", "@"],
        };

        Assert.Equal([recorded, threaded, unsigned], MailThreadGrain.AllMailIds(state));
        Assert.Empty(MailThreadGrain.AllMailIds(new MailThreadState()));
    }
}
