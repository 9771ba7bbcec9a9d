using Kefu.Contracts.Grains;

namespace Kefu.Grains.Crm;

/// <summary>What the fields that changed on both sides come to under their policies.</summary>
public sealed record CrmConflictDecision(
    IReadOnlyDictionary<string, string?> Adopt,
    IReadOnlyList<CrmFieldConflict> Manual);

/// <summary>
/// The conflict policies (docs/crm.md "Conflicts"). A field is in conflict when the CRM's value differs from the one it
/// held at the last confirmation (someone edited it in the CRM) and from Kefu's current value. Then <c>kefu_wins</c>
/// pushes Kefu's value; <c>crm_wins</c> takes the CRM's into Kefu; <c>newest_wins</c> compares the CRM record's update
/// time with the local record's; <c>manual</c> stops and asks a person. Fields Kefu cannot write (ids) always push.
/// </summary>
public static class CrmConflicts
{
    public static CrmConflictDecision Decide(
        IReadOnlyDictionary<string, string?> local,
        IReadOnlyDictionary<string, string?> crm,
        IReadOnlyDictionary<string, string?> confirmed,
        Func<string, string> policyOf,
        DateTimeOffset localUpdatedAt,
        DateTimeOffset? crmUpdatedAt,
        IReadOnlySet<string>? settled = null)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(crm);
        ArgumentNullException.ThrowIfNull(confirmed);
        ArgumentNullException.ThrowIfNull(policyOf);
        var adopt = new SortedDictionary<string, string?>(StringComparer.Ordinal);
        var manual = new List<CrmFieldConflict>();
        foreach (var (field, crmValue) in crm)
        {
            var localValue = local.GetValueOrDefault(field);
            var changedInCrm = !string.Equals(crmValue, confirmed.GetValueOrDefault(field), StringComparison.Ordinal);
            if (!changedInCrm || string.Equals(crmValue, localValue, StringComparison.Ordinal) || !CrmFields.IsWritable(field)
                || settled?.Contains(field) == true)
            {
                continue;
            }

            switch (policyOf(field))
            {
                case CrmPolicies.CrmWins:
                    adopt[field] = crmValue;
                    break;
                case CrmPolicies.NewestWins when crmUpdatedAt is { } crmTime && crmTime > localUpdatedAt:
                    adopt[field] = crmValue;
                    break;
                case CrmPolicies.Manual:
                    manual.Add(new CrmFieldConflict(field, localValue, crmValue));
                    break;
                default:
                    break; // kefu_wins, or newest_wins with Kefu newer (or no CRM time): the push overwrites it.
            }
        }

        return new CrmConflictDecision(adopt, manual);
    }
}
