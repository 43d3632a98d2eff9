package io.linkbase.devstack;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Docker detection that costs nothing and logs nothing on a machine without an engine. */
final class Docker {

    private static Boolean available;

    private Docker() {
    }

    static synchronized boolean available() {
        if (available == null) {
            available = detect();
        }
        return available;
    }

    private static boolean detect() {
        String mode = Servers.env("LINKBASE_DEVSTACK_DOCKER");
        if (mode == null) {
            mode = System.getProperty("linkbase.devstack.docker", "auto");
        }
        mode = mode.toLowerCase(Locale.ROOT);
        if (mode.equals("never") || mode.equals("false") || mode.equals("off") || mode.equals("0")) {
            return false;
        }
        if (!signOfAnEngine()) {
            return false;
        }
        try {
            // Only now load Testcontainers: it probes every strategy and logs loudly when none works.
            return org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable t) {
            return false;
        }
    }

    private static boolean signOfAnEngine() {
        if (Servers.env("DOCKER_HOST") != null || Servers.env("TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE") != null) {
            return true;
        }
        String home = System.getProperty("user.home", "");
        List<Path> candidates = new ArrayList<>(List.of(
                Path.of("/var/run/docker.sock"),
                Path.of("/run/docker.sock"),
                Path.of(home, ".docker/run/docker.sock"),
                Path.of(home, ".docker/desktop/docker.sock"),
                Path.of(home, ".rd/docker.sock"),
                Path.of(home, ".colima/default/docker.sock"),
                Path.of("/run/podman/podman.sock")));
        String runtimeDir = Servers.env("XDG_RUNTIME_DIR");
        if (runtimeDir != null) {
            candidates.add(Path.of(runtimeDir, "docker.sock"));
            candidates.add(Path.of(runtimeDir, "podman/podman.sock"));
        }
        for (Path p : candidates) {
            if (Files.exists(p)) {
                return true;
            }
        }
        Path tcProps = Path.of(home, ".testcontainers.properties");
        try {
            return Files.isRegularFile(tcProps) && Files.readString(tcProps).contains("docker.");
        } catch (Exception e) {
            return false;
        }
    }
}
