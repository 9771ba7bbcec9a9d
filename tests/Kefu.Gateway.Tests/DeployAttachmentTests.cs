using YamlDotNet.RepresentationModel;

namespace Kefu.Gateway.Tests;

/// <summary>Attachments in compose: one directory for every gateway and silo, writable by the images' non-root user.</summary>
public sealed partial class DeployTests
{
    private const string AttachmentDirectory = "/app/data/attachments";

    [Fact]
    public void Every_silo_and_gateway_mounts_the_same_attachments_volume()
    {
        var sources = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in Silos.Concat(Gateways))
        {
            var service = Mapping(Services, name);
            var mount = Sequence(service, "volumes").OfType<YamlScalarNode>().Select(v => v.Value!.Split(':'))
                .SingleOrDefault(parts => parts.Length >= 2 && parts[1] == AttachmentDirectory);
            Assert.True(mount is not null, $"{name} does not mount a volume at {AttachmentDirectory}");
            sources.Add(mount[0]);
        }

        var source = Assert.Single(sources);
        Assert.True(Mapping(_compose, "volumes").Children.ContainsKey(new YamlScalarNode(source)), $"volume '{source}' is not declared");
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void The_image_creates_the_attachment_directory_for_its_user(string dockerfile)
    {
        var text = File.ReadAllText(Path.Combine(Root, dockerfile));
        var create = text.IndexOf($"mkdir -p {AttachmentDirectory}", StringComparison.Ordinal);
        Assert.True(create >= 0, $"{dockerfile} does not create {AttachmentDirectory}");
        Assert.True(create < text.IndexOf("USER $APP_UID", StringComparison.Ordinal), "the directory must be created (and chowned) before USER");
        Assert.Contains("chown -R $APP_UID /app/data", text, StringComparison.Ordinal);
    }
}
