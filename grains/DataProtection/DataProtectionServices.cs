using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Kefu.Grains.DataProtection;

public static class DataProtectionServices
{
    /// <summary>
    /// The holders of the stores this part of Kefu owns (docs/data-protection.md). Other stores register their own
    /// <see cref="IPersonalDataHolder"/>; the export and the erasure call every one registered.
    /// </summary>
    public static IServiceCollection AddKefuDataProtection(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPersonalDataHolder, ConversationsHolder>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPersonalDataHolder, AttachmentsHolder>());
        // CRM sync records and mail before the events: their erasure relays any event still waiting in their state,
        // which the events' erasure then blanks with the rest.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPersonalDataHolder, CrmSyncHolder>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPersonalDataHolder, MailHolder>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPersonalDataHolder, EventsHolder>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPersonalDataHolder, VisitorsHolder>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPersonalDataHolder, ContactHolder>());
        return services;
    }
}
