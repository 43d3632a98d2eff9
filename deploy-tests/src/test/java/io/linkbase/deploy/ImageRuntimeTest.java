package io.linkbase.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * There is no Docker engine in CI, so this runs what the image would run, on the host: the
 * gateway laid out by deploy/docker/runtime-layout.sh (as the Dockerfile does), started with the
 * Dockerfile's ENTRYPOINT and ENV, probed with its HEALTHCHECK command and with the gRPC health
 * check the Kubernetes liveness probe makes (deploy/base: grpc probe, service ""), with the JSON
 * logging config the Kubernetes base mounts (deploy/base/logging.yaml). The gateway needs no
 * database, so nothing else has to run. It must already be built (the reactor builds gateway
 * before deploy-tests; alone: ./mvnw -pl gateway -am -DskipTests package).
 */
class ImageRuntimeTest {
    private static final Pattern INSTRUCTION = Pattern.compile("(?m)^(ENTRYPOINT|HEALTHCHECK|ENV)\\s+(.*)$");

    @TempDir
    Path tmp;

    @Test
    void theGatewayStartsFromTheImageLayoutAndPassesTheImageHealthCheck() throws Exception {
        Path root = Tools.repoRoot();
        String dockerfile = Files.readString(root.resolve("deploy/docker/Dockerfile")).replace("\\\n", " ");
        String runtimeStage = dockerfile.substring(dockerfile.lastIndexOf("\nFROM "));
        Map<String, String> instructions = new HashMap<>();
        Matcher m = INSTRUCTION.matcher(runtimeStage);
        while (m.find()) {
            instructions.merge(m.group(1), m.group(2), (a, b) -> a + " " + b);
        }
        List<String> entrypoint = jsonArray(instructions.get("ENTRYPOINT"));
        String healthcheck = instructions.get("HEALTHCHECK");
        assertThat(healthcheck).as("HEALTHCHECK").isNotNull();
        List<String> healthCommand = jsonArray(healthcheck.substring(healthcheck.indexOf("CMD ") + 4));
        Matcher javaOpts = Pattern.compile("JAVA_TOOL_OPTIONS=\"([^\"]*)\"").matcher(instructions.getOrDefault("ENV", ""));
        assertThat(javaOpts.find()).as("ENV JAVA_TOOL_OPTIONS").isTrue();

        Path app = tmp.resolve("app");
        Tools.Result layout = Tools.run(root, Map.of(), List.of("sh", "deploy/docker/runtime-layout.sh", "gateway", app.toString()));
        assertThat(layout.exitCode()).as("runtime-layout.sh gateway: " + layout.stderr()).isZero();

        Map<String, Object> logging = Yamls.load(Files.readString(root.resolve("deploy/base/logging.yaml")));
        Path logback = tmp.resolve("logback.xml");
        Files.writeString(logback, String.valueOf(Yamls.map(logging, "data").get("logback.xml")));

        Map<String, Object> compose = Yamls.load(Files.readString(root.resolve("docker-compose.yml")));
        String mainClass = Yamls.str(compose, "services.gateway.build.args.MAIN_CLASS");
        int http = freePort();
        int grpc = freePort();
        int management = freePort();
        Map<String, String> env = Map.of(
            "LINKBASE_MAIN_CLASS", mainClass,
            // as compose and deploy/ run the gateway: /health and /prometheus on a port of their own
            "ENDPOINTS_ALL_PORT", String.valueOf(management),
            "LINKBASE_HEALTH_PORT", String.valueOf(management),
            "LINKBASE_HTTP_PORT", String.valueOf(http),
            "LINKBASE_GRPC_PORT", String.valueOf(grpc),
            "LINKBASE_JWT_SECRET", UUID.randomUUID() + "-" + UUID.randomUUID(),
            "LINKBASE_SERVICE_SECRET", UUID.randomUUID() + "-" + UUID.randomUUID(),
            "JAVA_TOOL_OPTIONS", javaOpts.group(1),
            "JDK_JAVA_OPTIONS", "-Dlogback.configurationFile=" + logback);

        assertThat(health(root, healthCommand, env)).as("health check fails while nothing listens").isNotZero();

        List<String> command = new ArrayList<>();
        for (String arg : entrypoint) {
            command.add(arg.replace("/app/", app + "/"));
        }
        ProcessBuilder pb = new ProcessBuilder(command).directory(tmp.toFile())
            .redirectOutput(tmp.resolve("gateway.log").toFile()).redirectError(tmp.resolve("gateway.err").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("LINKBASE_"));
        pb.environment().putAll(env);
        Process gateway = pb.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            int status = -1;
            while (System.nanoTime() < deadline && gateway.isAlive()) {
                status = health(root, healthCommand, env);
                if (status == 0) {
                    break;
                }
                Thread.sleep(500);
            }
            if (status != 0) {
                fail("the image's HEALTHCHECK never passed (alive: " + gateway.isAlive() + "); gateway output:\n"
                    + tail(Files.readString(tmp.resolve("gateway.log"))) + tail(Files.readString(tmp.resolve("gateway.err"))));
            }
            assertLogsAreJsonLines(Files.readAllLines(tmp.resolve("gateway.log")));
            java.net.http.HttpClient web = java.net.http.HttpClient.newHttpClient();
            assertThat(get(web, http, "/health")).as("/health on the public port").isEqualTo(404);
            assertThat(get(web, http, "/prometheus")).as("/prometheus on the public port").isEqualTo(404);
            assertThat(get(web, management, "/prometheus")).as("/prometheus on the management port").isEqualTo(200);
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", grpc).usePlaintext().build();
            try {
                HealthCheckResponse.ServingStatus serving = HealthGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.newBuilder().setService("").build()).getStatus();
                assertThat(serving).as("grpc.health.v1 on the gRPC port (the liveness probe)")
                    .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        } finally {
            gateway.destroy();
            if (!gateway.waitFor(30, TimeUnit.SECONDS)) {
                gateway.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static int get(java.net.http.HttpClient web, int port, String path) throws Exception {
        return web.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + path))
            .timeout(java.time.Duration.ofSeconds(10)).build(), java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** Every log event is one JSON object; only Micronaut's banner, printed before logging starts, is not. */
    private static void assertLogsAreJsonLines(List<String> lines) throws IOException {
        ObjectMapper json = new ObjectMapper();
        int first = 0;
        while (first < lines.size() && !lines.get(first).startsWith("{")) {
            first++;
        }
        assertThat(first).as("plain lines before the first JSON line (the banner)").isLessThanOrEqualTo(8);
        List<JsonNode> events = new ArrayList<>();
        for (String line : lines.subList(first, lines.size())) {
            if (!line.isBlank()) {
                events.add(json.readTree(line));
            }
        }
        assertThat(events).as("JSON log events").isNotEmpty();
        assertThat(events).allSatisfy(e -> assertThat(e.has("timestamp") && e.has("level") && e.has("loggerName")
            && e.has("formattedMessage") && e.has("mdc")).as(e.toString()).isTrue());
        assertThat(events).anySatisfy(e -> assertThat(e.get("formattedMessage").asText()).contains("Startup completed"));
    }

    private static int health(Path root, List<String> command, Map<String, String> env) {
        return Tools.run(root, env, command).exitCode();
    }

    @SuppressWarnings("unchecked")
    private static List<String> jsonArray(String json) {
        assertThat(json).as("exec-form (JSON array) instruction").isNotNull().startsWith("[");
        // JSON is YAML: SnakeYAML reads the exec form, escapes included.
        return (List<String>) Yamls.load("v: " + json.trim()).get("v");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String tail(String log) {
        return log.length() > 4000 ? log.substring(log.length() - 4000) : log;
    }
}
