using System.Reflection;
using System.Text.RegularExpressions;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Hosting;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kefu.Gateway.Tests;

/// <summary>
/// Static checks of deploy/k8s (no Kubernetes cluster runs here or in CI): every manifest parses, the probes, ports,
/// selectors and configuration keys agree with the code, the images and each other, the secret template holds only
/// placeholders, and the silos get the RBAC and pod metadata Orleans' Kubernetes hosting needs.
/// </summary>
public sealed partial class KubernetesManifestTests
{
    private const string Namespace = "kefu";
    private static readonly string Root = Repository.Root;
    private static readonly string K8sDirectory = Path.Combine(Root, "deploy", "k8s");

    /// <summary>Applied by hand, never by <c>kubectl apply -k</c>: placeholders, and a Job that must finish first.</summary>
    private static readonly string[] NotInKustomization = [SecretTemplate, "schema-job.yaml"];

    private const string SecretTemplate = "secrets.template.yaml";

    /// <summary>Orleans' Kubernetes hosting reads these (KubernetesHostingOptions' *EnvironmentVariable constants).</summary>
    private static readonly Dictionary<string, string> OrleansPodEnvironment = new()
    {
        ["POD_NAME"] = "metadata.name",
        ["POD_NAMESPACE"] = "metadata.namespace",
        ["POD_IP"] = "status.podIP",
        ["ORLEANS_SERVICE_ID"] = "metadata.labels['orleans/serviceId']",
        ["ORLEANS_CLUSTER_ID"] = "metadata.labels['orleans/clusterId']",
    };

    private readonly List<Manifest> _manifests = LoadAll();

    private sealed record Manifest(string File, YamlMappingNode Node)
    {
        public string Kind => Scalar(Node, "kind");

        public string Name => Scalar(Mapping(Node, "metadata"), "name");
    }

    private Manifest One(string kind, string name) =>
        _manifests.SingleOrDefault(m => m.Kind == kind && m.Name == name) ?? throw new Xunit.Sdk.XunitException($"no {kind} '{name}' in deploy/k8s");

    private IEnumerable<Manifest> OfKind(string kind) => _manifests.Where(m => m.Kind == kind);

    private Manifest Silo => One("Deployment", "kefu-silo");

    private Manifest Gateway => One("Deployment", "kefu-gateway");

    private Dictionary<string, string> Config => StringMap(Mapping(One("ConfigMap", "kefu-config").Node, "data"));

    [Fact]
    public void Every_manifest_has_an_api_version_a_kind_a_name_and_lives_in_the_kefu_namespace()
    {
        Assert.True(_manifests.Count >= 12, $"only {_manifests.Count} manifests in deploy/k8s");
        foreach (var manifest in _manifests)
        {
            Assert.False(string.IsNullOrEmpty(Scalar(manifest.Node, "apiVersion")), $"{manifest.File}: no apiVersion");
            Assert.False(string.IsNullOrEmpty(manifest.Name), $"{manifest.File}: a {manifest.Kind} without a name");
            if (manifest.Kind != "Namespace")
            {
                Assert.Equal(Namespace, OptionalScalar(Mapping(manifest.Node, "metadata"), "namespace"));
            }
        }

        Assert.Equal(Namespace, One("Namespace", Namespace).Name);
    }

    [Fact]
    public void The_kustomization_lists_every_manifest_except_the_secret_template_and_the_schema_job()
    {
        var kustomization = LoadDocuments(Path.Combine(K8sDirectory, "kustomization.yaml")).Single();
        var listed = Sequence(kustomization, "resources").Select(r => r.ToString()).ToList();
        Assert.Equal(listed.Count, listed.Distinct().Count());
        var manifests = Directory.GetFiles(K8sDirectory, "*.yaml").Select(Path.GetFileName).Where(f => f != "kustomization.yaml").ToHashSet();
        foreach (var file in NotInKustomization)
        {
            Assert.True(manifests.Contains(file), $"deploy/k8s/{file} is missing");
            Assert.DoesNotContain(file, listed);
        }

        Assert.Equal(manifests.Except(NotInKustomization).Order(), listed.Order());
    }

    [Fact]
    public void Probes_ask_paths_the_hosts_map_on_ports_the_pods_declare()
    {
        foreach (var (deployment, host) in (ValueTuple<Manifest, string>[])[(Silo, "silo"), (Gateway, "gateway")])
        {
            var mapped = MappedGetPaths(host);
            var container = SingleContainer(deployment);
            var probes = new Dictionary<string, string>();
            foreach (var probe in (string[])["startupProbe", "livenessProbe", "readinessProbe"])
            {
                var httpGet = Mapping(Mapping(container, probe), "httpGet");
                var path = Scalar(httpGet, "path");
                Assert.True(mapped.Contains(path), $"{deployment.Name}: {probe} asks {path}, which {host}/ does not map ({string.Join(", ", mapped)})");
                Assert.NotNull(ContainerPort(container, Optional(httpGet, "port")!.ToString()));
                probes[probe] = path;
            }

            // Liveness must not depend on the cluster (a database outage would restart every pod); readiness must.
            Assert.Equal("/healthz", probes["livenessProbe"]);
            Assert.Equal("/readyz", probes["readinessProbe"]);
        }
    }

    [Fact]
    public void Container_ports_match_the_images_and_the_configuration()
    {
        var silo = SingleContainer(Silo);
        var gateway = SingleContainer(Gateway);
        Assert.Equal(UrlsPort("deploy/Dockerfile.silo"), ContainerPort(silo, "http"));
        Assert.Equal(UrlsPort("deploy/Dockerfile.gateway"), ContainerPort(gateway, "http"));

        // The Orleans ports: what the ConfigMap sets, which must also be what the silo defaults to (a silo without the
        // ConfigMap, e.g. started by hand for debugging, still matches its pod).
        var defaults = new KefuSiloOptions();
        Assert.Equal(defaults.SiloPort, int.Parse(Config["Kefu__Silo__SiloPort"]));
        Assert.Equal(defaults.GatewayPort, int.Parse(Config["Kefu__Silo__GatewayPort"]));
        Assert.Equal(defaults.SiloPort, ContainerPort(silo, "silo"));
        Assert.Equal(defaults.GatewayPort, ContainerPort(silo, "orleans"));
        Assert.Equal(new Uri(Config["Kefu__Grpc__Url"]).Port, ContainerPort(gateway, "grpc"));

        // Everything an image exposes is declared on its pod.
        foreach (var (dockerfile, container) in (ValueTuple<string, YamlMappingNode>[])[("deploy/Dockerfile.silo", silo), ("deploy/Dockerfile.gateway", gateway)])
        {
            var declared = Sequence(container, "ports").Cast<YamlMappingNode>().Select(p => int.Parse(Scalar(p, "containerPort"))).ToHashSet();
            foreach (var exposed in DockerfileInstructions(dockerfile, "EXPOSE").SelectMany(e => e.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
            {
                Assert.True(declared.Contains(int.Parse(exposed)), $"{dockerfile} exposes {exposed}, which the pod does not declare");
            }
        }
    }

    [Fact]
    public void Services_select_the_gateway_pods_and_target_their_ports()
    {
        var services = OfKind("Service").ToList();
        Assert.NotEmpty(services);
        foreach (var service in services)
        {
            var spec = Mapping(service.Node, "spec");
            var deployment = SelectedDeployment(Mapping(spec, "selector"), $"Service {service.Name}");
            var container = SingleContainer(deployment);
            foreach (var port in Sequence(spec, "ports").Cast<YamlMappingNode>())
            {
                var target = OptionalScalar(port, "targetPort") ?? Scalar(port, "port");
                Assert.True(ContainerPort(container, target) is not null, $"Service {service.Name}: targetPort {target} is no port of {deployment.Name}");
            }
        }

        Assert.Equal("kefu-gateway", SelectedDeployment(Mapping(Mapping(One("Service", "kefu-gateway").Node, "spec"), "selector"), "the gateway Service").Name);
    }

    [Fact]
    public void Silos_and_gateways_have_a_disruption_budget_and_the_autoscaler_targets_the_gateways()
    {
        var budgeted = OfKind("PodDisruptionBudget")
            .Select(pdb => SelectedDeployment(Mapping(Mapping(pdb.Node, "spec"), "selector"), $"PodDisruptionBudget {pdb.Name}").Name)
            .ToList();
        Assert.Equal(["kefu-gateway", "kefu-silo"], budgeted.Order());
        foreach (var pdb in OfKind("PodDisruptionBudget"))
        {
            // One at a time: a silo's grains move before the next one goes.
            Assert.Equal("1", OptionalScalar(Mapping(pdb.Node, "spec"), "maxUnavailable"));
        }

        var hpa = Mapping(One("HorizontalPodAutoscaler", "kefu-gateway").Node, "spec");
        var target = Mapping(hpa, "scaleTargetRef");
        Assert.Equal(("apps/v1", "Deployment", "kefu-gateway"), (Scalar(target, "apiVersion"), Scalar(target, "kind"), Scalar(target, "name")));
        var min = int.Parse(Scalar(hpa, "minReplicas"));
        Assert.True(min >= 2 && min <= int.Parse(Scalar(hpa, "maxReplicas")), "the gateways scale between 2 (one may be drained) and the maximum");

        // Utilization targets are shares of the requests: each resource the autoscaler watches must be requested.
        var requests = Mapping(Mapping(SingleContainer(Gateway), "resources"), "requests");
        foreach (var metric in Sequence(hpa, "metrics").Cast<YamlMappingNode>())
        {
            var resource = Scalar(Mapping(metric, "resource"), "name");
            Assert.NotNull(Optional(requests, resource));
        }

        // Nobody else scales the silos.
        Assert.DoesNotContain(OfKind("HorizontalPodAutoscaler"), h => Scalar(Mapping(Mapping(h.Node, "spec"), "scaleTargetRef"), "name") == "kefu-silo");
    }

    [Fact]
    public void Every_container_requests_and_limits_cpu_and_memory_and_runs_as_non_root()
    {
        foreach (var workload in OfKind("Deployment").Concat(OfKind("Job")))
        {
            var pod = PodSpec(workload);
            Assert.Equal("true", OptionalScalar(Mapping(pod, "securityContext"), "runAsNonRoot"));
            foreach (var container in Sequence(pod, "containers").Cast<YamlMappingNode>())
            {
                var resources = Mapping(container, "resources");
                Assert.NotNull(Optional(Mapping(resources, "requests"), "cpu"));
                Assert.NotNull(Optional(Mapping(resources, "requests"), "memory"));
                Assert.NotNull(Optional(Mapping(resources, "limits"), "memory"));
                Assert.Equal("false", OptionalScalar(Mapping(container, "securityContext"), "allowPrivilegeEscalation"));
            }
        }
    }

    [Fact]
    public void Termination_grace_covers_the_pre_stop_wait_and_the_hosts_shutdown()
    {
        // Both hosts stop within the .NET host's shutdown timeout (no host sets another): the gateway closes its
        // WebSockets and drains (gateway/Hosting/GracefulShutdown.cs), the silo hands its grains over.
        var hostShutdown = (int)new HostOptions().ShutdownTimeout.TotalSeconds;
        foreach (var deployment in (Manifest[])[Silo, Gateway])
        {
            var preStop = PreStopSeconds(SingleContainer(deployment));
            var grace = int.Parse(Scalar(PodSpec(deployment), "terminationGracePeriodSeconds"));
            Assert.True(grace >= preStop + hostShutdown + 5, $"{deployment.Name}: {grace} s of grace < {preStop} s preStop + {hostShutdown} s host shutdown + margin");
        }

        // The gateway waits until the Service and the ingress have stopped sending it new connections before it closes.
        Assert.True(PreStopSeconds(SingleContainer(Gateway)) >= 5, "the gateway needs a preStop wait");
        Assert.Contains("ApplicationStopping", File.ReadAllText(Path.Combine(Root, "gateway/Hosting/GracefulShutdown.cs")), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_key_the_config_map_sets_is_a_configuration_key_the_code_reads()
    {
        var bound = BoundConfigurationKeys();
        var documented = DocumentedConfigurationKeys();
        var sources = Directory.GetFiles(Path.Combine(Root, "gateway"), "*.cs", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(Path.Combine(Root, "grains"), "*.cs", SearchOption.AllDirectories))
            .Concat(Directory.GetFiles(Path.Combine(Root, "silo"), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText)
            .ToList();

        Assert.NotEmpty(Config);
        foreach (var variable in Config.Keys)
        {
            Assert.Matches("^[A-Za-z][A-Za-z0-9_]*$", variable);
            var key = ArrayIndex().Replace(variable.Replace("__", ":", StringComparison.Ordinal), "");
            var section = key[..key.LastIndexOf(':')];

            // Bound to an options class of the gateway or the grains, or documented in README.md's configuration table
            // and its section named in the code (keys bound to a library's options, like Kefu:Kubernetes).
            var real = bound.Contains(key, StringComparer.OrdinalIgnoreCase)
                || (documented.Contains(key) && sources.Any(s => s.Contains($"\"{key}\"", StringComparison.Ordinal) || s.Contains($"\"{section}\"", StringComparison.Ordinal)));
            Assert.True(real, $"configmap.yaml sets {variable}, but no code reads {key}");
            Assert.DoesNotMatch(SecretKey(), key);
        }
    }

    [Fact]
    public void The_secret_template_holds_only_placeholders_and_defines_every_secret_the_pods_use()
    {
        var template = LoadDocuments(Path.Combine(K8sDirectory, "secrets.template.yaml"));
        var defined = new Dictionary<string, HashSet<string>>();
        foreach (var secret in template)
        {
            Assert.Equal("Secret", Scalar(secret, "kind"));
            Assert.Null(Optional(secret, "data")); // base64 would hide what is in it
            var values = StringMap(Mapping(secret, "stringData"));
            defined[Scalar(Mapping(secret, "metadata"), "name")] = values.Keys.ToHashSet();
            foreach (var (key, value) in values)
            {
                if (key.StartsWith("ConnectionStrings__", StringComparison.Ordinal))
                {
                    var passwords = ConnectionStringPassword().Matches(value);
                    Assert.NotEmpty(passwords);
                    Assert.All(passwords, p => Assert.Matches(Placeholder(), p.Groups[1].Value.Trim()));
                }
                else
                {
                    Assert.Matches(Placeholder(), value);
                }
            }
        }

        // No Secret is applied with the manifests, and no secret sits in the ConfigMap.
        Assert.Empty(OfKind("Secret"));
        Assert.DoesNotContain(Config.Keys, k => SecretKey().IsMatch(k) || k.StartsWith("ConnectionStrings", StringComparison.Ordinal));

        // Every secret a pod refers to is in the template, with the key it asks for.
        foreach (var workload in OfKind("Deployment").Concat(OfKind("Job")))
        {
            foreach (var container in Sequence(PodSpec(workload), "containers").Cast<YamlMappingNode>())
            {
                foreach (var from in (Optional(container, "envFrom") as YamlSequenceNode)?.Cast<YamlMappingNode>() ?? [])
                {
                    if (Optional(from, "secretRef") is YamlMappingNode secretRef)
                    {
                        Assert.True(defined.ContainsKey(Scalar(secretRef, "name")), $"{workload.Name} uses the undefined secret {Scalar(secretRef, "name")}");
                    }
                }

                foreach (var env in (Optional(container, "env") as YamlSequenceNode)?.Cast<YamlMappingNode>() ?? [])
                {
                    if (Optional(env, "valueFrom") is YamlMappingNode valueFrom && Optional(valueFrom, "secretKeyRef") is YamlMappingNode reference)
                    {
                        Assert.True(defined.TryGetValue(Scalar(reference, "name"), out var keys) && keys.Contains(Scalar(reference, "key")),
                            $"{workload.Name}: secret {Scalar(reference, "name")} has no key {Scalar(reference, "key")}");
                    }

                    Assert.False(SecretKey().IsMatch(Scalar(env, "name")) && Optional(env, "value") is not null, $"{workload.Name}: {Scalar(env, "name")} is a literal");
                }
            }
        }

        // The silos and the gateways get the same secrets (one signing key for the whole cluster).
        Assert.Equal(SecretRefs(Silo), SecretRefs(Gateway));
        Assert.Contains("kefu-secrets", SecretRefs(Silo));
    }

    [Fact]
    public void Images_are_the_ones_the_dockerfiles_build()
    {
        // The compose file names the image each Dockerfile builds (DeployTests checks the Dockerfiles themselves).
        var compose = LoadDocuments(Path.Combine(Root, "deploy", "docker-compose.yml"), merge: true).Single();
        var built = new Dictionary<string, string>();
        foreach (var service in Mapping(compose, "services").Children.Values.Cast<YamlMappingNode>())
        {
            if (Optional(service, "build") is YamlMappingNode build)
            {
                built[Scalar(build, "dockerfile")] = Scalar(service, "image");
            }
        }

        Assert.Equal(built["deploy/Dockerfile.silo"], SingleContainer(Silo)["image"].ToString());
        Assert.Equal(built["deploy/Dockerfile.gateway"], SingleContainer(Gateway)["image"].ToString());
    }

    [Fact]
    public void Silos_get_the_pod_metadata_and_the_rbac_Orleans_Kubernetes_hosting_needs()
    {
        var template = Mapping(Mapping(Silo.Node, "spec"), "template");
        var labels = StringMap(Mapping(Mapping(template, "metadata"), "labels"));
        Assert.Equal(Config["Kefu__Silo__ServiceId"], labels["orleans/serviceId"]);
        Assert.Equal(Config["Kefu__Silo__ClusterId"], labels["orleans/clusterId"]);
        Assert.Equal("true", Config["Kefu__Kubernetes__Enabled"]);
        Assert.Contains("Microsoft.Orleans.Hosting.Kubernetes", File.ReadAllText(Path.Combine(Root, "silo", "Kefu.Silo.csproj")), StringComparison.Ordinal);

        // The environment the library reads, each from the pod's own metadata.
        var environment = (Optional(SingleContainer(Silo), "env") as YamlSequenceNode)!.Cast<YamlMappingNode>()
            .ToDictionary(e => Scalar(e, "name"), e => Scalar(Mapping(Mapping(e, "valueFrom"), "fieldRef"), "fieldPath"));
        foreach (var (name, fieldPath) in OrleansPodEnvironment)
        {
            Assert.True(environment.TryGetValue(name, out var actual) && actual == fieldPath, $"the silo's {name} must come from {fieldPath}");
        }

        // Gateways are no silos: with the labels, the silos' agent would look for their membership rows.
        var gatewayLabels = StringMap(Mapping(Mapping(Mapping(Mapping(Gateway.Node, "spec"), "template"), "metadata"), "labels"));
        Assert.DoesNotContain(gatewayLabels.Keys, k => k.StartsWith("orleans/", StringComparison.Ordinal));

        // RBAC: the silos' service account may get, list, watch, patch and delete pods in their namespace, nothing more.
        var pod = PodSpec(Silo);
        var account = Scalar(pod, "serviceAccountName");
        Assert.NotEqual("false", OptionalScalar(pod, "automountServiceAccountToken"));
        Assert.Equal(Namespace, OptionalScalar(Mapping(One("ServiceAccount", account).Node, "metadata"), "namespace"));
        var binding = OfKind("RoleBinding").Single(b => Sequence(b.Node, "subjects").Cast<YamlMappingNode>()
            .Any(s => Scalar(s, "kind") == "ServiceAccount" && Scalar(s, "name") == account && OptionalScalar(s, "namespace") == Namespace));
        var roleRef = Mapping(binding.Node, "roleRef");
        Assert.Equal("Role", Scalar(roleRef, "kind"));
        var rules = Sequence(One("Role", Scalar(roleRef, "name")).Node, "rules").Cast<YamlMappingNode>().ToList();
        var verbs = new HashSet<string>();
        foreach (var rule in rules)
        {
            Assert.Equal([""], Sequence(rule, "apiGroups").Select(g => g.ToString()));
            Assert.Equal(["pods"], Sequence(rule, "resources").Select(r => r.ToString()));
            verbs.UnionWith(Sequence(rule, "verbs").Select(v => v.ToString()));
        }

        Assert.Equal(["delete", "get", "list", "patch", "watch"], verbs.Order());
        Assert.Empty(OfKind("ClusterRole"));
        Assert.Empty(OfKind("ClusterRoleBinding"));
        Assert.Equal("false", OptionalScalar(PodSpec(Gateway), "automountServiceAccountToken"));
    }

    [Fact]
    public void The_schema_job_applies_deploy_mysql_in_order_from_a_config_map_that_fits()
    {
        var job = One("Job", "kefu-schema").Node;
        var spec = Mapping(job, "spec");
        Assert.Equal("0", Scalar(spec, "backoffLimit")); // a half-applied script is finished by hand, never retried
        var pod = Mapping(Mapping(spec, "template"), "spec");
        var container = Sequence(pod, "containers").Cast<YamlMappingNode>().Single();
        Assert.StartsWith("mariadb:10.11", Scalar(container, "image"), StringComparison.Ordinal);
        var script = string.Join('\n', Sequence(container, "args").Select(a => a.ToString()));
        Assert.Contains("SELECT MAX(version) FROM kefu_schema_version", script, StringComparison.Ordinal);
        Assert.Contains("/schema/[0-9][0-9][0-9]-*.sql", script, StringComparison.Ordinal);
        Assert.Contains("/schema/000-schema-version.sql", script, StringComparison.Ordinal);
        Assert.Equal("/schema", Scalar(Sequence(container, "volumeMounts").Cast<YamlMappingNode>().Single(), "mountPath"));

        // The scripts travel as a ConfigMap made from deploy/mysql: file names must be valid keys and the whole folder
        // must stay under the 1 MiB a ConfigMap may hold.
        var volume = Sequence(pod, "volumes").Cast<YamlMappingNode>().Single();
        Assert.Equal("kefu-schema-scripts", Scalar(Mapping(volume, "configMap"), "name"));
        var scripts = Directory.GetFiles(Path.Combine(Root, "deploy", "mysql"));
        Assert.Contains(scripts, s => Path.GetFileName(s) == "000-schema-version.sql");
        Assert.All(scripts, s => Assert.Matches("^[-._a-zA-Z0-9]+$", Path.GetFileName(s)));
        Assert.True(scripts.Sum(s => new FileInfo(s).Length) < 1_000_000, "deploy/mysql no longer fits in one ConfigMap");
    }

    // ---- the code side ----

    /// <summary>The paths a host maps with <c>MapGet("/…")</c> in its own project folder.</summary>
    private static HashSet<string> MappedGetPaths(string project) =>
        Directory.GetFiles(Path.Combine(Root, project), "*.cs", SearchOption.AllDirectories)
            .SelectMany(f => MapGet().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>The port of <c>ENV Urls=http://0.0.0.0:PORT</c> in a Dockerfile: where the image's app listens.</summary>
    private static int UrlsPort(string dockerfile)
    {
        var urls = DockerfileInstructions(dockerfile, "ENV").Select(e => UrlsVariable().Match(e)).Single(m => m.Success);
        return new Uri(urls.Groups[1].Value).Port;
    }

    private static IEnumerable<string> DockerfileInstructions(string dockerfile, string keyword)
    {
        var joined = File.ReadAllText(Path.Combine(Root, dockerfile)).Replace("\\\n", " ", StringComparison.Ordinal);
        return joined.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith(keyword + " ", StringComparison.Ordinal)).Select(l => l[(keyword.Length + 1)..]);
    }

    /// <summary>
    /// Every key an options class of the gateway or the grains binds: its <c>Section</c> constant plus each settable
    /// property, one level of nested option objects deep.
    /// </summary>
    private static HashSet<string> BoundConfigurationKeys()
    {
        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var assembly in (Assembly[])[typeof(Kefu.Gateway.Grpc.KefuGrpcOptions).Assembly, typeof(KefuSiloOptions).Assembly])
        {
            foreach (var type in assembly.GetTypes())
            {
                if (type.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field && field.GetRawConstantValue() is string section)
                {
                    AddProperties(keys, section, type, depth: 0);
                }
            }
        }

        return keys;
    }

    private static void AddProperties(HashSet<string> keys, string prefix, Type type, int depth)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var key = prefix + ":" + property.Name;
            keys.Add(key);
            var propertyType = property.PropertyType;
            if (depth < 2 && propertyType.IsClass && propertyType != typeof(string) && !typeof(System.Collections.IEnumerable).IsAssignableFrom(propertyType))
            {
                AddProperties(keys, key, propertyType, depth + 1);
            }
        }
    }

    /// <summary>The keys in the first column of README.md's configuration table (<c>`A:B:C` / `D`</c> means A:B:C and A:B:D).</summary>
    private static HashSet<string> DocumentedConfigurationKeys()
    {
        var readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        var table = readme[readme.IndexOf("## Configuration", StringComparison.Ordinal)..];
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in table.Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal)))
        {
            var firstCell = line.Split('|')[1];
            string? parent = null;
            foreach (Match token in Backticked().Matches(firstCell))
            {
                var value = token.Groups[1].Value;
                if (value.Contains(':', StringComparison.Ordinal))
                {
                    keys.Add(value);
                    parent = value[..value.LastIndexOf(':')];
                }
                else if (parent is not null)
                {
                    keys.Add(parent + ":" + value);
                }
            }
        }

        return keys;
    }

    // ---- manifest helpers ----

    private static List<Manifest> LoadAll()
    {
        var manifests = new List<Manifest>();
        foreach (var file in Directory.GetFiles(K8sDirectory, "*.yaml").Where(f => Path.GetFileName(f) != "kustomization.yaml").Order())
        {
            var name = Path.GetFileName(file);
            if (name == SecretTemplate)
            {
                continue;
            }

            manifests.AddRange(LoadDocuments(file).Select(d => new Manifest(name, d)));
        }

        return manifests;
    }

    private static List<YamlMappingNode> LoadDocuments(string path, bool merge = false)
    {
        using var reader = new StreamReader(path);
        var stream = new YamlStream();
        if (merge)
        {
            stream.Load(new MergingParser(new Parser(reader)));
        }
        else
        {
            stream.Load(reader);
        }

        var documents = stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
        Assert.True(documents.Count > 0, $"{path} holds no YAML mapping");
        return documents;
    }

    private static YamlMappingNode PodSpec(Manifest workload) => Mapping(Mapping(Mapping(workload.Node, "spec"), "template"), "spec");

    private static YamlMappingNode SingleContainer(Manifest deployment)
    {
        var containers = Sequence(PodSpec(deployment), "containers").Cast<YamlMappingNode>().ToList();
        Assert.Single(containers);
        return containers[0];
    }

    /// <summary>The container port a probe or a Service names (by name or number), or null.</summary>
    private static int? ContainerPort(YamlMappingNode container, string nameOrNumber)
    {
        foreach (var port in Sequence(container, "ports").Cast<YamlMappingNode>())
        {
            var number = Scalar(port, "containerPort");
            if (OptionalScalar(port, "name") == nameOrNumber || number == nameOrNumber)
            {
                return int.Parse(number);
            }
        }

        return null;
    }

    /// <summary>The one Deployment whose pod template carries every label of a selector (fails on none or several).</summary>
    private Manifest SelectedDeployment(YamlMappingNode selector, string what)
    {
        var wanted = StringMap(Optional(selector, "matchLabels") as YamlMappingNode ?? selector);
        Assert.NotEmpty(wanted);
        var matches = OfKind("Deployment").Where(d =>
        {
            var labels = StringMap(Mapping(Mapping(Mapping(Mapping(d.Node, "spec"), "template"), "metadata"), "labels"));
            return wanted.All(w => labels.TryGetValue(w.Key, out var value) && value == w.Value);
        }).ToList();
        Assert.True(matches.Count == 1, $"{what} selects {matches.Count} deployments");

        // A Deployment's own selector must match its pods too, or it would not own them.
        var own = StringMap(Mapping(Mapping(Mapping(matches[0].Node, "spec"), "selector"), "matchLabels"));
        var podLabels = StringMap(Mapping(Mapping(Mapping(Mapping(matches[0].Node, "spec"), "template"), "metadata"), "labels"));
        Assert.All(own, l => Assert.Equal(l.Value, podLabels.GetValueOrDefault(l.Key)));
        return matches[0];
    }

    private static int PreStopSeconds(YamlMappingNode container)
    {
        if (Optional(container, "lifecycle") is not YamlMappingNode lifecycle || Optional(lifecycle, "preStop") is not YamlMappingNode preStop)
        {
            return 0;
        }

        var command = Sequence(Mapping(preStop, "exec"), "command").Select(c => c.ToString()).ToList();
        Assert.Equal("sleep", command[0]);
        return int.Parse(command[1]);
    }

    private static List<string> SecretRefs(Manifest deployment) =>
        ((Optional(SingleContainer(deployment), "envFrom") as YamlSequenceNode)?.Cast<YamlMappingNode>() ?? [])
        .Select(f => Optional(f, "secretRef") as YamlMappingNode)
        .OfType<YamlMappingNode>()
        .Select(r => Scalar(r, "name"))
        .Order()
        .ToList();

    private static Dictionary<string, string> StringMap(YamlMappingNode map) =>
        map.Children.ToDictionary(c => c.Key.ToString(), c => (c.Value as YamlScalarNode)?.Value ?? "", StringComparer.Ordinal);

    private static YamlNode? Optional(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static string? OptionalScalar(YamlMappingNode map, string key) => (Optional(map, key) as YamlScalarNode)?.Value;

    private static YamlMappingNode Mapping(YamlMappingNode map, string key) =>
        Optional(map, key) as YamlMappingNode ?? throw new Xunit.Sdk.XunitException($"'{key}' is missing or not a mapping");

    private static YamlSequenceNode Sequence(YamlMappingNode map, string key) =>
        Optional(map, key) as YamlSequenceNode ?? throw new Xunit.Sdk.XunitException($"'{key}' is missing or not a list");

    private static string Scalar(YamlMappingNode map, string key) =>
        OptionalScalar(map, key) ?? throw new Xunit.Sdk.XunitException($"'{key}' is missing or not a scalar");

    [GeneratedRegex(@"MapGet\(""(/[^""]*)""")]
    private static partial Regex MapGet();

    [GeneratedRegex(@"\bUrls=(\S+)")]
    private static partial Regex UrlsVariable();

    [GeneratedRegex(@":\d+(?=:|$)")]
    private static partial Regex ArrayIndex();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Backticked();

    [GeneratedRegex("^<[a-z0-9-]+>$")]
    private static partial Regex Placeholder();

    [GeneratedRegex("password|signingkey|secret", RegexOptions.IgnoreCase)]
    private static partial Regex SecretKey();

    [GeneratedRegex(@"(?:^|;)\s*(?:password|pwd)\s*=\s*([^;]*)", RegexOptions.IgnoreCase)]
    private static partial Regex ConnectionStringPassword();
}
