package io.linkbase.deploy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static io.linkbase.deploy.Yamls.at;
import static io.linkbase.deploy.Yamls.list;
import static io.linkbase.deploy.Yamls.map;
import static io.linkbase.deploy.Yamls.maps;
import static io.linkbase.deploy.Yamls.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Renders every overlay under deploy/overlays with `kubectl kustomize` (offline) and checks
 * what a hosted multi-tenant cluster needs, on the rendered objects rather than the sources.
 */
class KustomizeOverlaysTest {
    static final List<String> SERVICES = List.of("schema-service", "record-service", "search-service", "gateway");
    static final List<String> KAFKA_CONSUMERS = List.of("schema-service", "record-service", "search-service");
    static final Map<String, Integer> GRPC_PORTS = Map.of(
        "schema-service", 9091, "record-service", 9092, "search-service", 9093, "gateway", 9090);
    static final Pattern SECRET_LIKE = Pattern.compile("(?i).*(password|secret|token|credential|private|api_?key).*");
    static final Set<String> POD_KINDS = Set.of("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet");

    private static final Map<String, List<Map<String, Object>>> RENDERED = new ConcurrentHashMap<>();

    static Stream<String> overlays() throws IOException {
        Path dir = Tools.repoRoot().resolve("deploy/overlays");
        try (Stream<Path> children = Files.list(dir)) {
            return children.filter(p -> Files.isRegularFile(p.resolve("kustomization.yaml")))
                .map(p -> p.getFileName().toString()).sorted().toList().stream();
        }
    }

    static List<Map<String, Object>> render(String overlay) {
        return RENDERED.computeIfAbsent(overlay, o -> {
            String kubectl = Tools.require("kubectl", "kubernetes-client");
            Tools.Result r = Tools.run(Tools.repoRoot(), Map.of(),
                List.of(kubectl, "kustomize", "deploy/overlays/" + o));
            if (r.exitCode() != 0) {
                fail("kubectl kustomize deploy/overlays/" + o + " failed (exit " + r.exitCode() + "):\n" + r.stderr());
            }
            return Yamls.loadAll(r.stdout());
        });
    }

    static List<Map<String, Object>> ofKind(List<Map<String, Object>> docs, String kind) {
        return docs.stream().filter(d -> kind.equals(d.get("kind"))).toList();
    }

    static Map<String, Object> named(List<Map<String, Object>> docs, String kind, String name) {
        return ofKind(docs, kind).stream().filter(d -> name.equals(str(d, "metadata.name"))).findFirst()
            .orElseGet(() -> fail("no " + kind + " named " + name));
    }

    static String id(Map<String, Object> doc) {
        return doc.get("kind") + "/" + str(doc, "metadata.name");
    }

    static List<Map<String, Object>> podTemplates(List<Map<String, Object>> docs) {
        return docs.stream().filter(d -> POD_KINDS.contains(String.valueOf(d.get("kind")))).toList();
    }

    static List<Map<String, Object>> containers(Map<String, Object> workload) {
        List<Map<String, Object>> all = new ArrayList<>(maps(workload, "spec.template.spec.containers"));
        all.addAll(maps(workload, "spec.template.spec.initContainers"));
        return all;
    }

    @Test
    void thereIsADevAndAHostedOverlay() throws IOException {
        assertThat(overlays()).contains("dev", "hosted");
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void everyServiceHasADeploymentServiceAutoscalerAndDisruptionBudget(String overlay) {
        List<Map<String, Object>> docs = render(overlay);
        for (String svc : SERVICES) {
            Map<String, Object> deployment = named(docs, "Deployment", svc);
            Map<String, Object> podLabels = map(deployment, "spec.template.metadata.labels");
            assertThat(podLabels).as(svc + " pod labels").containsAllEntriesOf(map(deployment, "spec.selector.matchLabels"));

            Map<String, Object> service = named(docs, "Service", svc);
            assertThat(podLabels).as("Service " + svc + " selects its pods").containsAllEntriesOf(map(service, "spec.selector"));
            assertThat(maps(service, "spec.ports")).extracting(p -> p.get("port"))
                .as("Service " + svc + " exposes gRPC").contains(GRPC_PORTS.get(svc));

            Map<String, Object> hpa = named(docs, "HorizontalPodAutoscaler", svc);
            assertThat(str(hpa, "apiVersion")).isEqualTo("autoscaling/v2");
            assertThat(str(hpa, "spec.scaleTargetRef.kind")).isEqualTo("Deployment");
            assertThat(str(hpa, "spec.scaleTargetRef.name")).isEqualTo(svc);
            int min = (Integer) at(hpa, "spec.minReplicas");
            int max = (Integer) at(hpa, "spec.maxReplicas");
            assertThat(min).as(svc + " minReplicas").isGreaterThanOrEqualTo(1);
            assertThat(max).as(svc + " maxReplicas").isGreaterThanOrEqualTo(min);
            assertThat(list(hpa, "spec.metrics")).as(svc + " HPA metrics").isNotEmpty();
            assertThat(at(deployment, "spec.replicas")).as(svc + ": the HPA, not the Deployment, owns replicas").isNull();

            Map<String, Object> pdb = named(docs, "PodDisruptionBudget", svc);
            assertThat(str(pdb, "apiVersion")).isEqualTo("policy/v1");
            assertThat(podLabels).as("PDB " + svc + " selects its pods").containsAllEntriesOf(map(pdb, "spec.selector.matchLabels"));
            assertThat(at(pdb, "spec.maxUnavailable") != null || at(pdb, "spec.minAvailable") != null)
                .as("PDB " + svc + " has a budget").isTrue();
            if (at(pdb, "spec.minAvailable") instanceof Integer minAvailable) {
                assertThat(minAvailable).as("PDB " + svc + " must not block every drain").isLessThan(min);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void everyContainerRunsAsNonRootOnAReadOnlyRootWithoutCapabilities(String overlay) {
        List<Map<String, Object>> workloads = podTemplates(render(overlay));
        assertThat(workloads).hasSizeGreaterThanOrEqualTo(SERVICES.size());
        for (Map<String, Object> w : workloads) {
            Map<String, Object> pod = map(w, "spec.template.spec");
            assertThat(pod.get("hostNetwork")).as(id(w) + " hostNetwork").isNotEqualTo(true);
            assertThat(pod.get("hostPID")).as(id(w) + " hostPID").isNotEqualTo(true);
            assertThat(pod.get("automountServiceAccountToken")).as(id(w) + " automountServiceAccountToken").isEqualTo(false);
            assertThat(str(pod, "securityContext.seccompProfile.type")).as(id(w) + " seccomp").isEqualTo("RuntimeDefault");
            Set<String> emptyDirs = new HashSet<>();
            for (Map<String, Object> v : maps(pod, "volumes")) {
                if (v.containsKey("emptyDir")) {
                    emptyDirs.add(String.valueOf(v.get("name")));
                }
                assertThat(v).as(id(w) + " volume " + v.get("name")).doesNotContainKey("hostPath");
            }
            for (Map<String, Object> c : containers(w)) {
                String where = id(w) + " container " + c.get("name");
                Object nonRoot = Objects.requireNonNullElse(at(c, "securityContext.runAsNonRoot"), at(pod, "securityContext.runAsNonRoot"));
                assertThat(nonRoot).as(where + " runAsNonRoot").isEqualTo(true);
                Object uid = Objects.requireNonNullElse(at(c, "securityContext.runAsUser"), Objects.requireNonNullElse(at(pod, "securityContext.runAsUser"), -1));
                assertThat((Integer) uid).as(where + " runAsUser (numeric, not root)").isGreaterThan(0);
                assertThat(at(c, "securityContext.readOnlyRootFilesystem")).as(where + " readOnlyRootFilesystem").isEqualTo(true);
                assertThat(at(c, "securityContext.allowPrivilegeEscalation")).as(where + " allowPrivilegeEscalation").isEqualTo(false);
                assertThat(at(c, "securityContext.privileged")).as(where + " privileged").isNotEqualTo(true);
                assertThat(list(c, "securityContext.capabilities.drop")).as(where + " drops capabilities").contains("ALL");
                assertThat(list(c, "securityContext.capabilities.add")).as(where + " adds capabilities").isEmpty();
                assertThat(maps(c, "volumeMounts")).as(where + ": writable /tmp from an emptyDir")
                    .anyMatch(m -> "/tmp".equals(m.get("mountPath")) && emptyDirs.contains(String.valueOf(m.get("name"))));
                for (Map<String, Object> port : maps(c, "ports")) {
                    assertThat(port).as(where + " hostPort").doesNotContainKey("hostPort");
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void everyServiceHasProbesAndResourceRequestsAndLimits(String overlay) {
        List<Map<String, Object>> docs = render(overlay);
        for (String svc : SERVICES) {
            Map<String, Object> c = containers(named(docs, "Deployment", svc)).get(0);
            assertThat(at(c, "livenessProbe.grpc.port")).as(svc + " liveness asks the gRPC health service").isEqualTo(GRPC_PORTS.get(svc));
            assertThat(str(c, "readinessProbe.httpGet.path")).as(svc + " readiness").isEqualTo("/health");
            assertThat(str(c, "startupProbe.httpGet.path")).as(svc + " startup").isEqualTo("/health");
            // graceful shutdown: traffic drains before SIGTERM, and the JVM's grace period fits the pod's
            assertThat(String.valueOf(at(c, "lifecycle.preStop.exec.command"))).as(svc + " preStop").isEqualTo("[sleep, 10]");
            assertThat(((Number) at(named(docs, "Deployment", svc), "spec.template.spec.terminationGracePeriodSeconds")).intValue())
                .as(svc + " terminationGracePeriodSeconds covers preStop (10 s) + grace period (15 s)").isGreaterThanOrEqualTo(25);
            assertThat(maps(c, "ports")).extracting(p -> p.get("containerPort")).as(svc + " ports")
                .contains(GRPC_PORTS.get(svc));
            if (svc.equals("gateway")) {
                assertThat(str(c, "readinessProbe.httpGet.port")).as("gateway readiness on the management port").isEqualTo("management");
                assertThat(str(c, "startupProbe.httpGet.port")).as("gateway startup on the management port").isEqualTo("management");
                assertThat(maps(c, "env")).as("gateway management endpoints on their own port")
                    .anySatisfy(e -> assertThat(e).containsEntry("name", "ENDPOINTS_ALL_PORT").containsEntry("value", "8089"));
                assertThat(maps(named(docs, "Service", "gateway"), "spec.ports")).extracting(p -> String.valueOf(p.get("port")))
                    .as("the gateway Service (the LoadBalancer in hosted) never exposes the management port")
                    .doesNotContain("8089");
            }
            for (String r : List.of("requests.cpu", "requests.memory", "limits.cpu", "limits.memory")) {
                assertThat(str(c, "resources." + r)).as(svc + " resources." + r).isNotBlank();
            }
        }
        for (Map<String, Object> w : podTemplates(docs)) {
            for (Map<String, Object> c : containers(w)) {
                assertThat(str(c, "resources.limits.memory")).as(id(w) + " " + c.get("name") + " memory limit").isNotBlank();
            }
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void everyImageIsPinnedToAVersion(String overlay) {
        for (Map<String, Object> w : podTemplates(render(overlay))) {
            for (Map<String, Object> c : containers(w)) {
                String image = String.valueOf(c.get("image"));
                assertThat(Images.isPinned(image)).as(id(w) + " image " + image + " must be pinned (version tag or digest, never latest)")
                    .isTrue();
            }
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void secretsComeOnlyFromSecretReferences(String overlay) {
        List<Map<String, Object>> docs = render(overlay);
        assertThat(ofKind(docs, "Secret")).as("no Secret objects (and so no secret values) are committed").isEmpty();
        Set<String> secretKeys = new HashSet<>();
        for (Map<String, Object> w : podTemplates(docs)) {
            for (Map<String, Object> c : containers(w)) {
                assertThat(list(c, "envFrom")).as(id(w) + " envFrom hides what is secret").isEmpty();
                for (Map<String, Object> env : maps(c, "env")) {
                    String name = String.valueOf(env.get("name"));
                    if (SECRET_LIKE.matcher(name).matches()) {
                        assertThat(env).as(id(w) + " env " + name + " must not carry a value").doesNotContainKey("value");
                        assertThat(str(env, "valueFrom.secretKeyRef.name")).as(id(w) + " env " + name + " secretKeyRef")
                            .isEqualTo("linkbase-secrets");
                        secretKeys.add(str(env, "valueFrom.secretKeyRef.key"));
                    }
                }
            }
        }
        // docs/operations.md tells operators to create exactly these keys.
        assertThat(secretKeys).containsExactlyInAnyOrder("jwt-secret", "service-secret", "schema-db-password",
            "record-db-password", "search-db-password", "kafka-password", "opensearch-password");
        for (String service : SERVICES) {
            // every service checks the signed internal calls; the gateway and search-service sign theirs
            Map<String, Object> c = containers(named(docs, "Deployment", service)).get(0);
            assertThat(maps(c, "env")).as(service + " LINKBASE_SERVICE_SECRET")
                .anySatisfy(env -> assertThat(str(env, "valueFrom.secretKeyRef.key")).isEqualTo("service-secret"));
        }
        for (Map<String, Object> cm : ofKind(docs, "ConfigMap")) {
            map(cm, "data").forEach((k, v) -> {
                assertThat(k).as(id(cm) + " key").doesNotMatch(SECRET_LIKE);
                assertThat(String.valueOf(v)).as(id(cm) + " " + k).doesNotMatch(SECRET_LIKE);
            });
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void externalEndpointsAndPartitionsComeFromTheConfigMap(String overlay) {
        List<Map<String, Object>> docs = render(overlay);
        Map<String, Object> config = map(named(docs, "ConfigMap", "linkbase-config"), "data");
        for (String svc : SERVICES) {
            for (Map<String, Object> env : maps(containers(named(docs, "Deployment", svc)).get(0), "env")) {
                String cmName = str(env, "valueFrom.configMapKeyRef.name");
                if (cmName != null) {
                    Map<String, Object> data = map(named(docs, "ConfigMap", cmName), "data");
                    assertThat(data).as(svc + " env " + env.get("name") + " refers to an existing key")
                        .containsKey(str(env, "valueFrom.configMapKeyRef.key"));
                }
            }
        }
        Map<String, String> expected = Map.of(
            "KAFKA_BOOTSTRAP_SERVERS", "kafka-bootstrap-servers",
            "LINKBASE_KAFKA_PARTITIONS", "kafka-partitions",
            "DATASOURCES_DEFAULT_URL", "-db-url");
        for (String svc : KAFKA_CONSUMERS) {
            Map<String, String> refs = configRefs(named(docs, "Deployment", svc));
            expected.forEach((env, key) -> assertThat(refs.get(env)).as(svc + " " + env + " from linkbase-config").endsWith(key));
        }
        assertThat(configRefs(named(docs, "Deployment", "search-service")).get("LINKBASE_OPENSEARCH_URL")).isEqualTo("opensearch-url");
        // every Kafka client logs in (and, hosted, over TLS); search-service logs in to OpenSearch over https
        for (String svc : KAFKA_CONSUMERS) {
            Map<String, String> refs = configRefs(named(docs, "Deployment", svc));
            assertThat(refs).as(svc).containsEntry("LINKBASE_KAFKA_SECURITY_PROTOCOL", "kafka-security-protocol")
                .containsEntry("LINKBASE_KAFKA_USERNAME", "kafka-username").containsEntry("LINKBASE_KAFKA_TRUSTSTORE", "kafka-truststore");
        }
        assertThat(String.valueOf(config.get("kafka-security-protocol"))).startsWith("SASL_");
        assertThat(String.valueOf(config.get("kafka-username"))).isNotBlank();
        assertThat(String.valueOf(config.get("opensearch-url"))).startsWith("https://");
        assertThat(String.valueOf(config.get("opensearch-username"))).isNotBlank();
        assertThat(configRefs(named(docs, "Deployment", "search-service"))).containsEntry("LINKBASE_OPENSEARCH_USERNAME", "opensearch-username")
            .containsEntry("LINKBASE_OPENSEARCH_CA", "opensearch-ca");
        if (overlay.equals("hosted")) {
            assertThat(config.get("kafka-security-protocol")).isEqualTo("SASL_SSL");
        }
        for (String db : List.of("schema", "record", "search")) {
            // one role per service, never the superuser
            assertThat(String.valueOf(config.get(db + "-db-username"))).isEqualTo("linkbase_" + db);
        }

        int partitions = Integer.parseInt(String.valueOf(config.get("kafka-partitions")));
        assertThat(partitions).isPositive();
        for (String svc : KAFKA_CONSUMERS) {
            // A consumer group uses at most one consumer per partition; more pods would idle.
            assertThat((Integer) at(named(docs, "HorizontalPodAutoscaler", svc), "spec.maxReplicas"))
                .as(svc + " maxReplicas <= partitions (" + partitions + ")").isLessThanOrEqualTo(partitions);
        }
    }

    private static Map<String, String> configRefs(Map<String, Object> deployment) {
        Map<String, String> refs = new HashMap<>();
        for (Map<String, Object> env : maps(containers(deployment).get(0), "env")) {
            if ("linkbase-config".equals(str(env, "valueFrom.configMapKeyRef.name"))) {
                refs.put(String.valueOf(env.get("name")), str(env, "valueFrom.configMapKeyRef.key"));
            }
        }
        return refs;
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void onlyTheGatewayIsReachableFromOutside(String overlay) {
        List<Map<String, Object>> docs = render(overlay);
        List<Map<String, Object>> policies = ofKind(docs, "NetworkPolicy");
        assertThat(policies).as("a default-deny ingress policy for every pod").anyMatch(p ->
            map(p, "spec.podSelector").isEmpty() && list(p, "spec.policyTypes").contains("Ingress")
                && list(p, "spec.ingress").isEmpty());

        for (Map<String, Object> p : policies) {
            Map<String, Object> selector = map(p, "spec.podSelector.matchLabels");
            boolean gatewayOnly = "gateway".equals(selector.get("app.kubernetes.io/name"));
            for (Map<String, Object> rule : maps(p, "spec.ingress")) {
                List<Map<String, Object>> from = maps(rule, "from");
                boolean fromAnywhere = from.isEmpty() || from.stream().anyMatch(f -> f.containsKey("ipBlock")
                    || (f.containsKey("namespaceSelector") && map(f, "namespaceSelector").isEmpty()));
                if (fromAnywhere) {
                    assertThat(gatewayOnly).as(id(p) + " admits traffic from outside to pods other than the gateway").isTrue();
                }
            }
        }
        // And the services can still reach each other: gateway -> each service's gRPC port.
        for (String svc : KAFKA_CONSUMERS) {
            assertThat(policies).as("gateway may call " + svc).anyMatch(p ->
                svc.equals(map(p, "spec.podSelector.matchLabels").get("app.kubernetes.io/name"))
                    && maps(p, "spec.ingress").stream().anyMatch(rule ->
                        maps(rule, "from").stream().anyMatch(f -> "gateway".equals(map(f, "podSelector.matchLabels").get("app.kubernetes.io/name")))
                            && maps(rule, "ports").stream().anyMatch(port -> GRPC_PORTS.get(svc).equals(port.get("port")))));
        }

        for (Map<String, Object> service : ofKind(docs, "Service")) {
            String type = Objects.requireNonNullElse(str(service, "spec.type"), "ClusterIP");
            if (!"gateway".equals(str(service, "metadata.name"))) {
                assertThat(type).as(id(service) + " must stay inside the cluster").isEqualTo("ClusterIP");
                assertThat(maps(service, "spec.ports")).as(id(service) + " nodePort").allMatch(port -> !port.containsKey("nodePort"));
            }
        }
        for (Map<String, Object> ingress : ofKind(docs, "Ingress")) {
            assertThat(ingress.toString()).as(id(ingress) + " routes only to the gateway")
                .doesNotContain("schema-service", "record-service", "search-service");
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void everyServiceLogsJsonLinesFromTheMountedLogbackConfig(String overlay) {
        List<Map<String, Object>> docs = render(overlay);
        for (String svc : SERVICES) {
            Map<String, Object> deployment = named(docs, "Deployment", svc);
            Map<String, Object> c = containers(deployment).get(0);
            String opts = maps(c, "env").stream().filter(e -> "JDK_JAVA_OPTIONS".equals(e.get("name")))
                .map(e -> String.valueOf(e.get("value"))).findFirst().orElse("");
            java.util.regex.Matcher file = Pattern.compile("-Dlogback\\.configurationFile=(\\S+)/([^/\\s]+)").matcher(opts);
            assertThat(file.find()).as(svc + " JDK_JAVA_OPTIONS selects a logback file: " + opts).isTrue();
            Map<String, Object> mount = maps(c, "volumeMounts").stream()
                .filter(m -> file.group(1).equals(m.get("mountPath"))).findFirst()
                .orElseGet(() -> fail(svc + " mounts nothing at " + file.group(1)));
            Map<String, Object> volume = maps(deployment, "spec.template.spec.volumes").stream()
                .filter(v -> mount.get("name").equals(v.get("name"))).findFirst()
                .orElseGet(() -> fail(svc + " has no volume " + mount.get("name")));
            String configMap = str(volume, "configMap.name");
            assertThat(configMap).as(svc + " logging volume is a ConfigMap").isNotNull();
            Object xml = map(named(docs, "ConfigMap", configMap), "data").get(file.group(2));
            assertThat(String.valueOf(xml)).as(configMap + " " + file.group(2))
                .contains("ch.qos.logback.classic.encoder.JsonEncoder").contains("appender-ref ref=\"JSON\"");
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void everythingLivesInOneNamespaceThatEnforcesRestrictedPods(String overlay) {
        List<Map<String, Object>> docs = render(overlay);
        List<Map<String, Object>> namespaces = ofKind(docs, "Namespace");
        assertThat(namespaces).hasSize(1);
        String ns = str(namespaces.get(0), "metadata.name");
        assertThat(map(namespaces.get(0), "metadata.labels")).containsEntry("pod-security.kubernetes.io/enforce", "restricted");
        for (Map<String, Object> d : docs) {
            if (!"Namespace".equals(d.get("kind"))) {
                assertThat(str(d, "metadata.namespace")).as(id(d) + " namespace").isEqualTo(ns);
            }
        }
    }
}
