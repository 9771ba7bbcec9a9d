using Kefu.Contracts.Messages;

namespace Kefu.Contracts.Grains;

/// <summary>
/// An agent's picture (issue #18), keyed "{tenant}/{agentId}" like the agent. Apart from the agent grain so that the
/// picture's bytes are neither rewritten with every change of the agent's state nor read by the anonymous requests of
/// visitors' widgets through the agent grain.
/// </summary>
public interface IAgentAvatarGrain : IGrainWithStringKey
{
    /// <summary>Stores a checked picture (the caller has read its type and size from its bytes) and returns its version.</summary>
    Task<Outcome<string>> Set(string contentType, byte[] bytes);

    /// <summary>Removes the picture; the agent is shown with its initials again.</summary>
    Task<Outcome<bool>> Clear();

    /// <summary>The picture, or null when the agent has none.</summary>
    [AlwaysInterleave]
    Task<AgentAvatar?> Get();
}

/// <summary>A stored picture: its media type (from its magic bytes), bytes and version (changes with every upload).</summary>
[GenerateSerializer, Immutable]
public sealed record AgentAvatar(
    [property: Id(0)] string ContentType,
    [property: Id(1)] byte[] Bytes,
    [property: Id(2)] string Version);
