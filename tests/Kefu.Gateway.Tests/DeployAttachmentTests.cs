using YamlDotNet.RepresentationModel;

namespace Kefu.Gateway.Tests;

/// <summary>
/// Attachments in compose: one store every gateway and silo reaches (MySQL, so no shared volume), and a directory the
/// images' non-root user can write for the embedded gateway and <c>Store=disk</c>.
/// </summary>
public sealed partial class DeployTests
{
    private const string AttachmentDirectory = "/app/data/attachments";

    [Fact]
    public void Every_silo_and_gateway_stores_attachments_in_mysql_without_a_volume()
    {
        foreach (var name in Silos.Concat(Gateways))
        {
            var service = Mapping(Services, name);
            Assert.True(EnvironmentOf(service).TryGetValue("Kefu__Attachments__Store", out var store) && store == "mysql",
                $"{name} does not set Kefu__Attachments__Store=mysql");
            var mounts = Optional(service, "volumes") is YamlSequenceNode volumes
                ? volumes.OfType<YamlScalarNode>().Select(v => v.Value!.Split(':')).Where(p => p.Length >= 2 && p[1] == AttachmentDirectory).ToList()
                : [];
            Assert.True(mounts.Count == 0, $"{name} still mounts a volume at {AttachmentDirectory}, which the MySQL store does not read");
        }
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
