package io.linkbase.deploy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

import static io.linkbase.deploy.Yamls.at;
import static io.linkbase.deploy.Yamls.list;
import static io.linkbase.deploy.Yamls.map;
import static io.linkbase.deploy.Yamls.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Validates docker-compose.yml with `docker-compose config` (Debian's docker-compose needs no
 * engine for it) and checks the resolved file.
 */
class DockerComposeTest {
    static final List<String> SERVICES = List.of("schema-service", "record-service", "search-service", "gateway");
    static final Map<String, String> DATABASES = Map.of(
        "schema-service", "linkbase_schema", "record-service", "linkbase_record", "search-service", "linkbase_search");
    static final Pattern SECRET_LIKE = Pattern.compile("(?i).*(password|secret|token|credential|private|api_?key).*");
    // Values only this test knows: wherever they show up in the resolved file, they came from
    // the environment, not from the repository.
    static final String JWT = "jwt-" + UUID.randomUUID();
    static final String DB_PASSWORD = "db-" + UUID.randomUUID();
    static final String SERVICE_SECRET = "svc-" + UUID.randomUUID();
    static final String KAFKA_PASSWORD = "kafka-" + UUID.randomUUID();
    static final String OPENSEARCH_PASSWORD = "Os-" + UUID.randomUUID() + "!";
    /** Every secret compose needs, each with a value only this test knows. */
    static final Map<String, String> SECRETS = Map.of(
        "LINKBASE_JWT_SECRET", JWT, "LINKBASE_DB_PASSWORD", DB_PASSWORD, "LINKBASE_SERVICE_SECRET", SERVICE_SECRET,
        "LINKBASE_SCHEMA_DB_PASSWORD", "schema-" + UUID.randomUUID(),
        "LINKBASE_RECORD_DB_PASSWORD", "record-" + UUID.randomUUID(),
        "LINKBASE_SEARCH_DB_PASSWORD", "search-" + UUID.randomUUID(),
        "LINKBASE_KAFKA_PASSWORD", KAFKA_PASSWORD, "LINKBASE_OPENSEARCH_PASSWORD", OPENSEARCH_PASSWORD);

    static Path root;
    static Map<String, Object> raw;
    static Map<String, Object> resolved;

    @BeforeAll
    static void render() throws IOException {
        root = Tools.repoRoot();
        raw = Yamls.load(Files.readString(root.resolve("docker-compose.yml")));
        Tools.Result r = config(SECRETS);
        if (r.exitCode() != 0) {
            fail("docker-compose -f docker-compose.yml config failed (exit " + r.exitCode() + "):\n" + r.stderr());
        }
        resolved = Yamls.load(r.stdout());
    }

    /** The resolved compose file, rendered once per JVM (other test classes use it too). */
    static synchronized Map<String, Object> resolvedCompose() throws IOException {
        if (resolved == null) {
            render();
        }
        return resolved;
    }

    static Tools.Result config(Map<String, String> env) {
        String compose = Tools.require("docker-compose", "docker-compose");
        try {
            // An empty env file: a developer's own .env must not make the check pass or fail.
            Path emptyEnv = Files.createTempFile("linkbase-compose", ".env");
            try {
                return Tools.run(root, env, List.of(compose, "--env-file", emptyEnv.toString(),
                    "-f", "docker-compose.yml", "config"));
            } finally {
                Files.deleteIfExists(emptyEnv);
            }
        } catch (IOException e) {
            return fail("cannot create an empty env file: " + e);
        }
    }

    static Map<String, Object> service(String name) {
        Map<String, Object> svc = map(resolved, "services." + name);
        assertThat(svc).as("compose service " + name).isNotEmpty();
        return svc;
    }

    @Test
    void runsTheWholeSystemInfrastructureIncluded() {
        assertThat(map(resolved, "services").keySet())
            .containsExactlyInAnyOrder("postgres", "kafka", "opensearch", "schema-service", "record-service", "search-service", "gateway");
        assertThat(str(resolved, "services.kafka.environment.KAFKA_PROCESS_ROLES")).as("Kafka in KRaft mode").isEqualTo("broker,controller");
        assertThat(map(resolved, "services.opensearch.environment")).containsEntry("discovery.type", "single-node")
            .containsEntry("DISABLE_SECURITY_PLUGIN", "false")
            .containsEntry("OPENSEARCH_INITIAL_ADMIN_PASSWORD", OPENSEARCH_PASSWORD);
    }

    @Test
    void refusesToStartWithoutTheSecrets() {
        Tools.Result r = config(Map.of());
        assertThat(r.exitCode()).as("docker-compose config without secrets must fail").isNotZero();
        assertThat(r.stderr()).contains("LINKBASE_");
        for (String missing : SECRETS.keySet()) {
            Map<String, String> env = new java.util.HashMap<>(SECRETS);
            env.remove(missing);
            Tools.Result without = config(env);
            assertThat(without.exitCode()).as("config without " + missing).isNotZero();
            assertThat(without.stderr()).contains(missing);
        }
    }

    @Test
    void commitsNoSecretValue() {
        for (Map.Entry<String, Object> svc : map(raw, "services").entrySet()) {
            map(svc.getValue(), "environment").forEach((name, value) -> {
                if (SECRET_LIKE.matcher(name).matches()) {
                    assertThat(String.valueOf(value)).as(svc.getKey() + " " + name + " must come from the environment")
                        .matches("\\$\\{LINKBASE_[A-Z_]+:\\?[^}]*}");
                }
            });
        }
        assertThat(str(resolved, "services.gateway.environment.LINKBASE_JWT_SECRET")).isEqualTo(JWT);
        for (String svc : SERVICES) {
            // every service checks internal calls; the gateway and search-service sign theirs
            assertThat(str(resolved, "services." + svc + ".environment.LINKBASE_SERVICE_SECRET")).as(svc).isEqualTo(SERVICE_SECRET);
        }
        DATABASES.forEach((svc, db) -> {
            // each service its own role, named like its database, not the superuser
            String own = SECRETS.get("LINKBASE_" + db.substring("linkbase_".length()).toUpperCase() + "_DB_PASSWORD");
            assertThat(str(resolved, "services." + svc + ".environment.DATASOURCES_DEFAULT_USERNAME")).isEqualTo(db);
            assertThat(str(resolved, "services." + svc + ".environment.DATASOURCES_DEFAULT_PASSWORD")).isEqualTo(own);
            assertThat(str(resolved, "services.postgres.environment.LINKBASE_" + db.substring("linkbase_".length()).toUpperCase()
                + "_DB_PASSWORD")).isEqualTo(own);
            assertThat(str(resolved, "services." + svc + ".environment.LINKBASE_KAFKA_PASSWORD")).isEqualTo(KAFKA_PASSWORD);
        });
        assertThat(str(resolved, "services.postgres.environment.POSTGRES_PASSWORD")).isEqualTo(DB_PASSWORD);
        assertThat(str(resolved, "services.kafka.environment.LINKBASE_KAFKA_PASSWORD")).isEqualTo(KAFKA_PASSWORD);
        assertThat(str(resolved, "services.search-service.environment.LINKBASE_OPENSEARCH_PASSWORD")).isEqualTo(OPENSEARCH_PASSWORD);
    }

    @Test
    void everyImageIsPinnedAndTheServicesAreBuiltFromTheRepository() {
        for (Map.Entry<String, Object> svc : map(resolved, "services").entrySet()) {
            String image = str(svc.getValue(), "image");
            assertThat(Images.isPinned(image)).as(svc.getKey() + " image " + image + " pinned (never latest)").isTrue();
        }
        for (String svc : SERVICES) {
            Map<String, Object> s = service(svc);
            assertThat(str(s, "build.dockerfile")).isEqualTo("deploy/docker/Dockerfile");
            assertThat(Path.of(str(s, "build.context")).normalize()).isEqualTo(root);
            assertThat(str(s, "build.args.SERVICE")).isEqualTo(svc);
            assertThat(Files.isDirectory(root.resolve(svc))).as(svc + " folder exists").isTrue();
            assertThat(str(s, "build.args.MAIN_CLASS")).startsWith("io.linkbase.").endsWith(".Application");
        }
    }

    @Test
    void noContainerRunsAsRoot() {
        for (Map.Entry<String, Object> svc : map(resolved, "services").entrySet()) {
            String user = str(svc.getValue(), "user");
            assertThat(user).as(svc.getKey() + " user").isNotBlank();
            assertThat(user.split(":")[0]).as(svc.getKey() + " user").isNotIn("root", "0");
            assertThat(svc.getValue().toString()).as(svc.getKey()).doesNotContain("privileged=true");
        }
        for (String svc : SERVICES) {
            Map<String, Object> s = service(svc);
            assertThat(at(s, "read_only")).as(svc + " read-only root").isEqualTo(true);
            assertThat(list(s, "tmpfs")).as(svc + " writable /tmp").contains("/tmp");
            assertThat(list(s, "cap_drop")).as(svc + " drops capabilities").contains("ALL");
            assertThat(list(s, "security_opt")).as(svc + " no-new-privileges").contains("no-new-privileges:true");
        }
    }

    @Test
    void onlyTheGatewayPublishesPorts() {
        for (Map.Entry<String, Object> svc : map(resolved, "services").entrySet()) {
            if (!svc.getKey().equals("gateway")) {
                assertThat(list(svc.getValue(), "ports")).as(svc.getKey() + " publishes no port").isEmpty();
            }
        }
        assertThat(Yamls.maps(service("gateway"), "ports")).extracting(p -> p.get("target"))
            .containsExactlyInAnyOrder(8080, 9090);
    }

    @Test
    void startsInHealthCheckedOrder() throws IOException {
        for (String infra : List.of("postgres", "kafka", "opensearch")) {
            assertThat(list(service(infra), "healthcheck.test")).as(infra + " healthcheck").isNotEmpty();
        }
        // The four services' health check is the image's HEALTHCHECK (GET /health).
        assertThat(Files.readString(root.resolve("deploy/docker/Dockerfile"))).contains("HEALTHCHECK");

        Map<String, Set<String>> expected = Map.of(
            "schema-service", Set.of("postgres", "kafka"),
            "record-service", Set.of("postgres", "kafka"),
            "search-service", Set.of("postgres", "kafka", "opensearch", "record-service"),
            "gateway", Set.of("schema-service", "record-service", "search-service"));
        expected.forEach((svc, deps) -> {
            Map<String, Object> dependsOn = map(service(svc), "depends_on");
            assertThat(dependsOn.keySet()).as(svc + " depends_on").containsExactlyInAnyOrderElementsOf(deps);
            dependsOn.forEach((dep, cond) -> assertThat(str(cond, "condition")).as(svc + " waits for " + dep + " to be healthy")
                .isEqualTo("service_healthy"));
        });
    }

    @Test
    void keepsDataInNamedVolumesAndCreatesEachServicesDatabase() throws IOException {
        Map<String, String> dataDirs = Map.of(
            "postgres", "/var/lib/postgresql/data", "kafka", "/var/lib/kafka/data", "opensearch", "/usr/share/opensearch/data");
        Set<String> named = map(resolved, "volumes").keySet();
        dataDirs.forEach((svc, dir) -> assertThat(Yamls.list(service(svc), "volumes")).as(svc + " data volume")
            .anyMatch(v -> {
                String s = String.valueOf(v);
                String source = s.contains(":") ? s.substring(0, s.indexOf(':')) : "";
                return named.contains(source) && s.contains(":" + dir);
            }));
        assertThat(str(service("kafka"), "environment.KAFKA_LOG_DIRS")).isEqualTo("/var/lib/kafka/data");

        String initDir = list(service("postgres"), "volumes").stream().map(String::valueOf)
            .filter(v -> v.contains(":/docker-entrypoint-initdb.d")).map(v -> v.substring(0, v.indexOf(':')))
            .findFirst().orElseGet(() -> fail("postgres has no init script folder"));
        StringBuilder sql = new StringBuilder();
        try (var files = Files.list(Path.of(initDir))) {
            for (Path f : files.filter(f -> f.toString().endsWith(".sql") || f.toString().endsWith(".sh")).toList()) {
                sql.append(Files.readString(f));
            }
        }
        // a role per database that owns it, and PUBLIC (the other roles) may not connect to it
        assertThat(sql.toString()).containsPattern("(?i)CREATE ROLE\\s+:\"db\"\\s+LOGIN\\s+NOSUPERUSER")
            .containsPattern("(?i)CREATE DATABASE\\s+:\"db\"\\s+OWNER\\s+:\"db\"")
            .containsPattern("(?i)REVOKE ALL ON DATABASE\\s+:\"db\"\\s+FROM PUBLIC");
        DATABASES.forEach((svc, db) -> {
            assertThat(sql.toString()).as("init script creates " + db).containsPattern("for db in [^;]*\\b" + db + "\\b");
            assertThat(str(service(svc), "environment.DATASOURCES_DEFAULT_URL")).isEqualTo("jdbc:postgresql://postgres:5432/" + db);
        });
    }

    @Test
    void wiresTheServicesTogether() throws IOException {
        assertThat(map(service("gateway"), "environment"))
            .containsEntry("LINKBASE_SCHEMA_GRPC", "schema-service:9091")
            .containsEntry("LINKBASE_RECORD_GRPC", "record-service:9092")
            .containsEntry("LINKBASE_SEARCH_GRPC", "search-service:9093");
        for (String svc : DATABASES.keySet()) {
            assertThat(map(service(svc), "environment")).containsEntry("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
                .containsKey("LINKBASE_KAFKA_PARTITIONS")
                .containsEntry("LINKBASE_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
                .containsEntry("LINKBASE_KAFKA_USERNAME", "linkbase");
        }
        // the broker takes clients only on its SASL listener (the controller port answers no client requests)
        for (String listener : str(service("kafka"), "environment.KAFKA_LISTENERS").split(",")) {
            assertThat(listener).as("Kafka listener").matches("(SASL_PLAINTEXT|SASL_SSL|CONTROLLER)://.*");
        }
        assertThat(str(service("kafka"), "environment.KAFKA_SASL_ENABLED_MECHANISMS")).isEqualTo("SCRAM-SHA-512");
        assertThat(str(service("kafka"), "environment.KAFKA_INTER_BROKER_LISTENER_NAME")).isEqualTo("SASL_PLAINTEXT");
        assertThat(Files.readString(root.resolve("deploy/compose/kafka/start.sh"))).contains("--add-scram");
        assertThat(map(service("search-service"), "environment"))
            .containsEntry("LINKBASE_OPENSEARCH_URL", "https://node-0.example.com:9200")
            .containsEntry("LINKBASE_OPENSEARCH_USERNAME", "admin")
            .containsEntry("LINKBASE_OPENSEARCH_CA", "/opensearch-config/root-ca.pem");
        assertThat(str(service("kafka"), "environment.KAFKA_AUTO_CREATE_TOPICS_ENABLE")).isEqualTo("false");
    }
}
