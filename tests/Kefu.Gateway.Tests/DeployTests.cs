using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests;

/// <summary>
/// Static checks of deploy/: no Docker engine runs here or in CI, so these keep the compose file, the Dockerfiles, the
/// secrets template and the ignore files consistent with the repository and with each other.
/// </summary>
public sealed partial class DeployTests
{
    private static readonly string Root = Repository.Root;
    private static readonly string DeployDirectory = Path.Combine(Root, "deploy");
    private static readonly string ComposeFile = Path.Combine(DeployDirectory, "docker-compose.yml");
    private static readonly string[] Silos = ["silo1", "silo2"];
    private static readonly string[] Gateways = ["gateway1", "gateway2"];

    /// <summary>Files at the root that every restore reads when they exist.</summary>
    private static readonly string[] RootBuildFiles =
        ["Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "NuGet.config", "nuget.config", "global.json"];

    private readonly YamlMappingNode _compose = LoadCompose();

    public static TheoryData<string, string> Images => new()
    {
        { "deploy/Dockerfile.silo", "silo/Kefu.Silo.csproj" },
        { "deploy/Dockerfile.gateway", "gateway/Kefu.Gateway.csproj" },
    };

    public static TheoryData<string> Dockerfiles => new() { "deploy/Dockerfile.silo", "deploy/Dockerfile.gateway" };

    private YamlMappingNode Services => Mapping(_compose, "services");

    [Fact]
    public void The_compose_file_defines_mariadb_two_silos_and_two_gateways()
    {
        var names = Services.Children.Keys.Select(k => k.ToString()).ToHashSet();
        foreach (var expected in (string[])["mariadb", .. Silos, .. Gateways])
        {
            Assert.True(names.Contains(expected), $"service '{expected}' is missing from deploy/docker-compose.yml");
        }
    }

    [Fact]
    public void Every_build_context_and_dockerfile_exists()
    {
        var built = 0;
        foreach (var (name, service) in AllServices())
        {
            if (Optional(service, "build") is not { } build)
            {
                continue;
            }

            built++;
            var (context, dockerfile) = build is YamlMappingNode map
                ? (Scalar(map, "context"), Optional(map, "dockerfile")?.ToString() ?? "Dockerfile")
                : (build.ToString(), "Dockerfile");
            var contextPath = Path.GetFullPath(Path.Combine(DeployDirectory, context));
            Assert.True(Directory.Exists(contextPath), $"{name}: build context '{context}' does not exist");
            Assert.True(File.Exists(Path.Combine(contextPath, dockerfile)), $"{name}: dockerfile '{dockerfile}' does not exist in '{context}'");
            Assert.True(InsideRepository(contextPath), $"{name}: build context '{context}' is outside the repository");
        }

        Assert.Equal(Silos.Length + Gateways.Length, built);
    }

    [Fact]
    public void Every_bind_mount_source_exists_in_the_repository()
    {
        var mounts = 0;
        foreach (var (name, service) in AllServices())
        {
            foreach (var source in BindMountSources(service))
            {
                mounts++;
                Assert.False(Path.IsPathRooted(source) || source.StartsWith('~'), $"{name}: bind mount '{source}' depends on the host; use a path inside the repository");
                var path = Path.GetFullPath(Path.Combine(DeployDirectory, source));
                Assert.True(InsideRepository(path), $"{name}: bind mount '{source}' is outside the repository");
                Assert.True(Directory.Exists(path) || File.Exists(path), $"{name}: bind mount source '{source}' does not exist");
            }
        }

        Assert.True(mounts > 0, "expected at least the schema folder to be bind-mounted");
    }

    [Fact]
    public void MariaDB_applies_the_schema_folder_on_first_start_and_reports_health()
    {
        var mariadb = Mapping(Services, "mariadb");
        Assert.StartsWith("mariadb:10.11", Scalar(mariadb, "image"), StringComparison.Ordinal);
        var volumes = Sequence(mariadb, "volumes").OfType<YamlScalarNode>().Select(v => v.Value!).ToList();
        Assert.Contains(volumes, v => v.Split(':') is [var source, "/docker-entrypoint-initdb.d", "ro"]
            && Path.GetFullPath(Path.Combine(DeployDirectory, source)) == Path.Combine(DeployDirectory, "mysql"));
        Assert.Contains(volumes, v => v.Split(':') is [var source, "/var/lib/mysql", ..] && !source.StartsWith('.') && !source.StartsWith('/'));
        var healthcheck = Sequence(Mapping(mariadb, "healthcheck"), "test").Select(t => t.ToString()).ToList();
        Assert.Contains("healthcheck.sh", healthcheck);
    }

    [Fact]
    public void Silos_and_gateways_start_after_their_dependencies_are_healthy()
    {
        foreach (var name in Silos.Concat(Gateways))
        {
            var dependsOn = Mapping(Mapping(Services, name), "depends_on");
            var required = Gateways.Contains(name) ? ["mariadb", .. Silos] : (string[])["mariadb"];
            foreach (var dependency in required)
            {
                Assert.Equal("service_healthy", Scalar(Mapping(dependsOn, dependency), "condition"));
            }

            Assert.NotNull(Optional(Mapping(Services, name), "restart"));
        }
    }

    [Fact]
    public void Secrets_come_from_variables_never_literals()
    {
        var checkedSecrets = 0;
        foreach (var (name, service) in AllServices())
        {
            foreach (var (key, value) in EnvironmentOf(service))
            {
                if (SecretKey().IsMatch(key))
                {
                    checkedSecrets++;
                    Assert.True(value is not null && RequiredVariable().IsMatch(value), $"{name}: {key} must be exactly ${{VAR:?message}}, not '{value}'");
                }

                foreach (Match password in ConnectionStringPassword().Matches(value ?? ""))
                {
                    checkedSecrets++;
                    Assert.True(RequiredVariable().IsMatch(password.Groups[1].Value.Trim()), $"{name}: the password in {key} must be a ${{VAR:?message}}");
                }
            }
        }

        // Database password, signing key and admin password on each silo and gateway; root and user password on MariaDB.
        var expected = (3 * (Silos.Length + Gateways.Length)) + 2;
        Assert.True(checkedSecrets >= expected, $"only {checkedSecrets} of {expected} secrets found: did the environment move?");
    }

    [Fact]
    public void Gateways_are_published_on_host_ports_5080_and_5081()
    {
        Assert.Contains("5080", HostPorts(Mapping(Services, "gateway1")));
        Assert.Contains("5081", HostPorts(Mapping(Services, "gateway2")));
    }

    [Fact]
    public void Silos_and_gateways_get_the_cluster_settings()
    {
        foreach (var name in Silos.Concat(Gateways))
        {
            var environment = EnvironmentOf(Mapping(Services, name));
            foreach (var key in (string[])["ConnectionStrings__kefu", "Kefu__Auth__SigningKey"])
            {
                Assert.True(environment.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value), $"{name} gets no {key}");
            }

            Assert.Contains("Server=mariadb", environment["ConnectionStrings__kefu"], StringComparison.OrdinalIgnoreCase);
        }

        // Each silo advertises its own name: two silos advertising one address would fight over one membership row.
        var advertised = Silos.Select(s => EnvironmentOf(Mapping(Services, s)).GetValueOrDefault("Kefu__Silo__AdvertisedAddress")).ToList();
        Assert.Equal(Silos, advertised);
    }

    [Fact]
    public void The_env_example_defines_every_variable_the_compose_file_uses_and_no_other()
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var scalar in Scalars(_compose))
        {
            foreach (Match reference in VariableReference().Matches(scalar.Replace("$$", "", StringComparison.Ordinal)))
            {
                used.Add(reference.Groups["braced"].Success ? reference.Groups["braced"].Value : reference.Groups["bare"].Value);
            }
        }

        var defined = ReadEnvFile(Path.Combine(DeployDirectory, ".env.example"));
        Assert.NotEmpty(used);
        foreach (var variable in used)
        {
            Assert.True(defined.TryGetValue(variable, out var value) && value.Length > 0, $"deploy/.env.example does not define {variable}");
        }

        Assert.Empty(defined.Keys.Except(used));
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Every_COPY_source_of_a_Dockerfile_exists(string dockerfile)
    {
        var ignored = File.ReadLines(Path.Combine(Root, ".dockerignore"))
            .Select(l => l.Trim().TrimEnd('/'))
            .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.Contains('*', StringComparison.Ordinal))
            .ToList();
        var copies = ParseDockerfile(dockerfile).Where(i => i.Keyword == "COPY").Select(i => ParseCopy(i.Arguments)).Where(c => c.From is null).ToList();
        Assert.NotEmpty(copies);
        foreach (var source in copies.SelectMany(c => c.Sources))
        {
            var path = Path.GetFullPath(Path.Combine(Root, source));
            Assert.True(File.Exists(path) || Directory.Exists(path), $"{dockerfile}: COPY source '{source}' does not exist");
            Assert.DoesNotContain(ignored, i => Normalize(source) == i || Normalize(source).StartsWith(i + "/", StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void The_ENTRYPOINT_runs_the_dll_of_the_published_project(string dockerfile, string project)
    {
        var instructions = ParseDockerfile(dockerfile);
        var entrypoint = instructions.Last(i => i.Keyword == "ENTRYPOINT").Arguments;
        // Exec form, so SIGTERM reaches dotnet and the silo or gateway shuts down gracefully.
        Assert.StartsWith("[", entrypoint, StringComparison.Ordinal);
        var command = JsonSerializer.Deserialize<string[]>(entrypoint)!;
        Assert.Equal("dotnet", command[0]);
        var dll = command[1];
        Assert.EndsWith(".dll", dll, StringComparison.Ordinal);

        var projectPath = Path.Combine(Root, project);
        Assert.True(File.Exists(projectPath), $"{project} does not exist");
        Assert.Equal(Path.GetFileNameWithoutExtension(project) + ".dll", dll);
        var assemblyName = XDocument.Load(projectPath).Descendants("AssemblyName").FirstOrDefault()?.Value;
        Assert.True(assemblyName is null || assemblyName + ".dll" == dll, $"{project} sets AssemblyName {assemblyName}");
        Assert.Contains(instructions, i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish " + project, StringComparison.Ordinal)
            && i.Arguments.Contains("-c Release", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void The_restore_layer_copies_every_file_restore_reads(string dockerfile, string project)
    {
        var instructions = ParseDockerfile(dockerfile);
        var restore = instructions.FindIndex(i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet restore", StringComparison.Ordinal));
        Assert.True(restore > 0, $"{dockerfile} has no separate 'dotnet restore' step");
        var copiedBeforeRestore = instructions.Take(restore)
            .Where(i => i.Keyword == "COPY")
            .Select(i => ParseCopy(i.Arguments))
            .SelectMany(c => c.Sources.Select(s => Landing(s, c.Destination)))
            .ToHashSet(StringComparer.Ordinal);

        var needed = RootBuildFiles.Where(f => File.Exists(Path.Combine(Root, f))).Concat(ProjectClosure(project)).ToList();
        foreach (var file in needed)
        {
            Assert.True(copiedBeforeRestore.Contains(file), $"{dockerfile}: '{file}' is not copied to its place before 'dotnet restore'");
        }

        // Only project and build files before restore: a source file there would defeat the layer cache.
        Assert.All(copiedBeforeRestore, f => Assert.True(needed.Contains(f), $"{dockerfile}: '{f}' is copied before restore"));
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void The_runtime_stage_is_aspnet_non_root_with_a_healthcheck(string dockerfile)
    {
        var instructions = ParseDockerfile(dockerfile);
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", instructions.First(i => i.Keyword == "FROM").Arguments, StringComparison.Ordinal);
        var runtimeStart = instructions.FindLastIndex(i => i.Keyword == "FROM");
        var runtime = instructions.Skip(runtimeStart).ToList();
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0", runtime[0].Arguments, StringComparison.Ordinal);
        var user = runtime.LastOrDefault(i => i.Keyword == "USER")?.Arguments;
        Assert.True(user is not null && user is not ("root" or "0"), $"{dockerfile} runs as root");
        Assert.Contains(runtime, i => i.Keyword == "EXPOSE");
        Assert.Contains(runtime, i => i.Keyword == "HEALTHCHECK" && i.Arguments.Contains("CMD", StringComparison.Ordinal));
        Assert.DoesNotContain(instructions, i => i.Keyword is "ENV" or "ARG" && SecretKey().IsMatch(i.Arguments));
    }

    [Fact]
    public void Env_files_are_ignored_by_git_and_docker_but_the_template_is_not()
    {
        Assert.True(IsGitIgnored("deploy/.env"), "deploy/.env must be git-ignored");
        Assert.True(IsGitIgnored(".env"), ".env must be git-ignored");
        Assert.False(IsGitIgnored("deploy/.env.example"), "deploy/.env.example must be committed");

        var dockerIgnore = File.ReadLines(Path.Combine(Root, ".dockerignore")).Select(l => l.Trim().TrimEnd('/')).ToHashSet(StringComparer.Ordinal);
        foreach (var pattern in (string[])["**/.env", "**/bin", "**/obj", ".git"])
        {
            Assert.True(dockerIgnore.Contains(pattern), $".dockerignore lacks {pattern}");
        }
    }

    // ---- compose helpers ----

    private static YamlMappingNode LoadCompose()
    {
        using var reader = new StreamReader(ComposeFile);
        var stream = new YamlStream();
        // Compose resolves YAML merge keys (<<: *anchor); so must we.
        stream.Load(new MergingParser(new Parser(reader)));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private IEnumerable<(string Name, YamlMappingNode Service)> AllServices() =>
        Services.Children.Select(c => (c.Key.ToString(), (YamlMappingNode)c.Value));

    private static YamlNode? Optional(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static YamlMappingNode Mapping(YamlMappingNode map, string key) =>
        Optional(map, key) as YamlMappingNode ?? throw new Xunit.Sdk.XunitException($"'{key}' is missing or not a mapping");

    private static YamlSequenceNode Sequence(YamlMappingNode map, string key) =>
        Optional(map, key) as YamlSequenceNode ?? throw new Xunit.Sdk.XunitException($"'{key}' is missing or not a list");

    private static string Scalar(YamlMappingNode map, string key) =>
        (Optional(map, key) as YamlScalarNode)?.Value ?? throw new Xunit.Sdk.XunitException($"'{key}' is missing or not a scalar");

    private static IEnumerable<string> Scalars(YamlNode node) => node switch
    {
        YamlScalarNode scalar => [scalar.Value ?? ""],
        YamlSequenceNode sequence => sequence.Children.SelectMany(Scalars),
        YamlMappingNode mapping => mapping.Children.SelectMany(c => Scalars(c.Key).Concat(Scalars(c.Value))),
        _ => [],
    };

    /// <summary>A service's environment, in either of compose's forms (mapping, or a list of KEY=value).</summary>
    private static Dictionary<string, string?> EnvironmentOf(YamlMappingNode service)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        switch (Optional(service, "environment"))
        {
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                {
                    environment[key.ToString()] = (value as YamlScalarNode)?.Value;
                }

                break;
            case YamlSequenceNode list:
                foreach (var item in list.Children.Select(i => i.ToString()))
                {
                    var equals = item.IndexOf('=', StringComparison.Ordinal);
                    environment[equals < 0 ? item : item[..equals]] = equals < 0 ? null : item[(equals + 1)..];
                }

                break;
        }

        return environment;
    }

    private static List<string> HostPorts(YamlMappingNode service)
    {
        var ports = new List<string>();
        if (Optional(service, "ports") is not YamlSequenceNode list)
        {
            return ports;
        }

        foreach (var port in list.Children)
        {
            if (port is YamlMappingNode map)
            {
                if (Optional(map, "published") is YamlScalarNode published)
                {
                    ports.Add(published.Value!);
                }

                continue;
            }

            // [ip:]host:container[/protocol]; a bare container port publishes nothing fixed.
            var parts = port.ToString().Split('/')[0].Split(':');
            if (parts.Length >= 2)
            {
                ports.Add(parts[^2]);
            }
        }

        return ports;
    }

    private static IEnumerable<string> BindMountSources(YamlMappingNode service)
    {
        if (Optional(service, "volumes") is not YamlSequenceNode volumes)
        {
            yield break;
        }

        foreach (var volume in volumes.Children)
        {
            if (volume is YamlMappingNode map)
            {
                if (Optional(map, "type")?.ToString() == "bind")
                {
                    yield return Scalar(map, "source");
                }

                continue;
            }

            // source:target[:mode]; a source that is not a path is a named volume.
            var source = volume.ToString().Split(':')[0];
            if (source.StartsWith('.') || source.StartsWith('/') || source.StartsWith('~'))
            {
                yield return source;
            }
        }
    }

    private static Dictionary<string, string> ReadEnvFile(string path)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path).Select(l => l.Trim()))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (line.Length == 0 || line.StartsWith('#') || equals < 0)
            {
                continue;
            }

            values[line[..equals].Trim()] = line[(equals + 1)..].Trim();
        }

        return values;
    }

    // ---- Dockerfile helpers ----

    private sealed record Instruction(string Keyword, string Arguments);

    private sealed record Copy(IReadOnlyList<string> Sources, string Destination, string? From);

    private static List<Instruction> ParseDockerfile(string dockerfile)
    {
        var instructions = new List<Instruction>();
        var current = new StringBuilder();
        foreach (var line in File.ReadLines(Path.Combine(Root, dockerfile)).Select(l => l.Trim()))
        {
            if (line.StartsWith('#') || (line.Length == 0 && current.Length == 0))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current.Append(line[..^1]).Append(' ');
                continue;
            }

            var text = current.Append(line).ToString().Trim();
            current.Clear();
            var space = text.IndexOfAny([' ', '\t']);
            instructions.Add(space < 0
                ? new Instruction(text.ToUpperInvariant(), "")
                : new Instruction(text[..space].ToUpperInvariant(), text[(space + 1)..].Trim()));
        }

        return instructions;
    }

    private static Copy ParseCopy(string arguments)
    {
        string? from = null;
        var rest = arguments;
        while (rest.StartsWith("--", StringComparison.Ordinal))
        {
            var end = rest.IndexOfAny([' ', '\t']);
            var flag = rest[..end];
            from = flag.StartsWith("--from=", StringComparison.Ordinal) ? flag["--from=".Length..] : from;
            rest = rest[end..].TrimStart();
        }

        var paths = rest.StartsWith('[')
            ? JsonSerializer.Deserialize<string[]>(rest)!
            : rest.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        return new Copy(paths[..^1], paths[^1], from);
    }

    /// <summary>Where a COPY source lands, relative to the build's working directory (the repository layout).</summary>
    private static string Landing(string source, string destination)
    {
        var into = destination.EndsWith('/') || destination is "." or "./";
        var path = into ? Path.Combine(destination, Path.GetFileName(source.TrimEnd('/'))) : destination;
        return Normalize(path);
    }

    /// <summary>The project and every project it references, transitively, as repository-relative paths.</summary>
    private static List<string> ProjectClosure(string project)
    {
        var seen = new List<string>();
        var pending = new Stack<string>([Normalize(project)]);
        while (pending.TryPop(out var current))
        {
            if (seen.Contains(current))
            {
                continue;
            }

            seen.Add(current);
            var path = Path.Combine(Root, current);
            foreach (var reference in XDocument.Load(path).Descendants("ProjectReference"))
            {
                var include = reference.Attribute("Include")!.Value.Replace('\\', '/');
                var full = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, include));
                pending.Push(Normalize(Path.GetRelativePath(Root, full)));
            }
        }

        return seen;
    }

    // ---- repository helpers ----

    private static bool InsideRepository(string fullPath) =>
        fullPath == Root || fullPath.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static string Normalize(string path)
    {
        var normalized = path.Replace('\\', '/');
        while (normalized.StartsWith("./", StringComparison.Ordinal))
        {
            normalized = normalized[2..];
        }

        return normalized.TrimEnd('/');
    }

    /// <summary>Asks git; where git cannot answer (no git, no repository) falls back to the patterns in .gitignore.</summary>
    private static bool IsGitIgnored(string path)
    {
        try
        {
            var start = new ProcessStartInfo("git") { WorkingDirectory = Root, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in (string[])["check-ignore", "--no-index", "-q", path])
            {
                start.ArgumentList.Add(argument);
            }

            using var git = Process.Start(start)!;
            git.WaitForExit();
            if (git.ExitCode is 0 or 1)
            {
                return git.ExitCode == 0;
            }
        }
        catch (Win32Exception)
        {
        }

        var name = Path.GetFileName(path);
        return File.ReadLines(Path.Combine(Root, ".gitignore")).Select(l => l.Trim())
            .Any(p => p == path || p == "/" + path || p == name || p == "**/" + name);
    }

    [GeneratedRegex("password|signingkey|secret", RegexOptions.IgnoreCase)]
    private static partial Regex SecretKey();

    /// <summary>A whole value that is one required variable: ${NAME} or ${NAME:?message}, never ${NAME:-default}.</summary>
    [GeneratedRegex(@"^\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*)?\}$")]
    private static partial Regex RequiredVariable();

    [GeneratedRegex(@"(?:^|;)\s*(?:password|pwd)\s*=\s*([^;]*)", RegexOptions.IgnoreCase)]
    private static partial Regex ConnectionStringPassword();

    [GeneratedRegex(@"\$(?:\{(?<braced>[A-Za-z_][A-Za-z0-9_]*)|(?<bare>[A-Za-z_][A-Za-z0-9_]*))")]
    private static partial Regex VariableReference();
}
