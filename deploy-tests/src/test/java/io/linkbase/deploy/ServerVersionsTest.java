package io.linkbase.deploy;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.linkbase.deploy.Yamls.map;
import static io.linkbase.deploy.Yamls.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * One version of each server (PostgreSQL, Kafka, OpenSearch), defined once in the root pom:
 * devstack's downloads, devstack's container images, docker-compose.yml and every image in the
 * rendered overlays must use exactly that version. Fails when any of them drifts.
 */
class ServerVersionsTest {
    /** Image repository (without registry) → root pom property passed in by surefire. */
    static final Map<String, String> SERVER_IMAGES = Map.of(
        "postgres", "postgres", "apache/kafka", "kafka", "opensearchproject/opensearch", "opensearch");

    static String expected(String server) {
        String v = System.getProperty("linkbase.version." + server);
        if (v == null || v.isBlank() || v.contains("${")) {
            return fail("system property linkbase.version." + server + " not set by the build (deploy-tests/pom.xml)");
        }
        return v;
    }

    /** The server an image runs (by repository, any registry prefix), or null for other images. */
    static String serverOf(String image) {
        String repo = image.contains(":") ? image.substring(0, image.lastIndexOf(':')) : image;
        for (String known : SERVER_IMAGES.keySet()) {
            if (repo.equals(known) || repo.endsWith("/" + known) || repo.equals("library/" + known)) {
                return SERVER_IMAGES.get(known);
            }
        }
        return null;
    }

    /** The version part of a tag: {@code 15.19-bookworm} → {@code 15.19}. */
    static String versionOf(String image) {
        String tag = image.substring(image.lastIndexOf(':') + 1);
        int dash = tag.indexOf('-');
        return dash < 0 ? tag : tag.substring(0, dash);
    }

    @Test
    void composeRunsTheBuildsVersionOfEachServer() throws IOException {
        Map<String, String> seen = new LinkedHashMap<>();
        for (Map.Entry<String, Object> svc : map(DockerComposeTest.resolvedCompose(), "services").entrySet()) {
            String image = str(svc.getValue(), "image");
            String server = image == null ? null : serverOf(image);
            if (server != null) {
                assertThat(versionOf(image)).as("compose " + svc.getKey() + " image " + image).isEqualTo(expected(server));
                seen.put(server, image);
            }
        }
        assertThat(seen.keySet()).as("compose runs all three servers").containsExactlyInAnyOrder("postgres", "kafka", "opensearch");
    }

    @Test
    void overlaysRunNoOtherVersionOfAServer() throws IOException {
        List<String> checked = new ArrayList<>();
        for (String overlay : KustomizeOverlaysTest.overlays().toList()) {
            for (Map<String, Object> w : KustomizeOverlaysTest.podTemplates(KustomizeOverlaysTest.render(overlay))) {
                for (Map<String, Object> c : KustomizeOverlaysTest.containers(w)) {
                    String image = String.valueOf(c.get("image"));
                    String server = serverOf(image);
                    if (server != null) {
                        assertThat(versionOf(image)).as(overlay + " " + KustomizeOverlaysTest.id(w) + " image " + image)
                            .isEqualTo(expected(server));
                    }
                    checked.add(image);
                }
            }
        }
        assertThat(checked).as("the overlays rendered their workloads").isNotEmpty();
    }

    @Test
    void devstackDownloadsAndRunsTheBuildsVersions() throws IOException {
        Path root = Tools.repoRoot();
        // The downloaded binaries: each runner module names its server artifacts by the property.
        assertDependencyVersions(root.resolve("devstack/postgres-server/pom.xml"), "io.zonky.test.postgres", "${zonky.binaries.version}");
        assertDependencyVersions(root.resolve("devstack/kafka-server/pom.xml"), "org.apache.kafka", "${kafka.broker.version}");
        assertDependencyVersions(root.resolve("devstack/opensearch-server/pom.xml"), "org.opensearch", "${opensearch.server.version}");
        String rootPom = Files.readString(root.resolve("pom.xml"));
        assertThat(rootPom).as("the PostgreSQL binaries are the PostgreSQL version")
            .contains("<zonky.binaries.version>${postgres.server.version}.0</zonky.binaries.version>");
        // The container images: from the filtered resource, never a literal tag in the code.
        String versions = Files.readString(root.resolve(
            "devstack/core/src/main/resources/io/linkbase/devstack/server-versions.properties"));
        assertThat(versions).contains("postgres=${postgres.server.version}", "kafka=${kafka.broker.version}",
            "opensearch=${opensearch.server.version}");
        String containers = Files.readString(root.resolve("devstack/core/src/main/java/io/linkbase/devstack/Containers.java"));
        assertThat(Pattern.compile("\"(postgres|apache/kafka|opensearchproject/opensearch):\\d").matcher(containers).find())
            .as("Containers.java names no image version of its own").isFalse();
    }

    private static void assertDependencyVersions(Path pom, String groupId, String property) throws IOException {
        String text = Files.readString(pom);
        Matcher m = Pattern.compile("<groupId>" + Pattern.quote(groupId) + "</groupId>\\s*<artifactId>[^<]+</artifactId>\\s*<version>([^<]+)</version>")
            .matcher(text);
        int found = 0;
        while (m.find()) {
            assertThat(m.group(1)).as(pom + ": " + m.group()).isEqualTo(property);
            found++;
        }
        assertThat(found).as(pom + " depends on " + groupId + " server artifacts").isPositive();
    }
}
