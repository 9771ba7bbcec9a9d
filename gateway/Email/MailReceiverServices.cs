using Kefu.Grains.Email;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.Email;

public static class MailReceiverServices
{
    /// <summary>
    /// The mail receiver (docs/email-inbound.md): started only when <c>Kefu:Mail:Receiver:Port</c> &gt; 0. The handler
    /// and its bounce sink are registered either way (Try-added: a test may bring its own sink).
    /// </summary>
    public static IServiceCollection AddKefuMailReceiver(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<MailOptions>(configuration.GetSection(MailOptions.Section));
        services.TryAddSingleton<IBounceSink, GrainBounceSink>();
        services.TryAddSingleton(sp =>
        {
            var mail = sp.GetRequiredService<IOptions<MailOptions>>().Value;
            return new InboundAddresses(mail.ReplyDomain, InboundAddresses.BareAddress(mail.From), mail.TokenKeyBytes());
        });
        services.TryAddSingleton<InboundMailHandler>();
        if (configuration.GetValue<int>($"{MailOptions.Section}:Receiver:Port") > 0)
        {
            services.TryAddSingleton<MailReceiverFilter>();
            services.TryAddSingleton<MailReceiverStore>();
            services.AddHostedService<MailReceiverService>();
        }

        return services;
    }
}
