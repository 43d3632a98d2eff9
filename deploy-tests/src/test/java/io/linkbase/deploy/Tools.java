package io.linkbase.deploy;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.fail;

/** The external renderers the tests run, found on the PATH or reported missing by package. */
final class Tools {
    private Tools() {
    }

    record Result(int exitCode, String stdout, String stderr) {
    }

    static Path repoRoot() {
        String root = System.getProperty("linkbase.repo.root");
        Path path = root != null ? Path.of(root) : Path.of("..");
        path = path.toAbsolutePath().normalize();
        if (!Files.isRegularFile(path.resolve("docker-compose.yml"))) {
            fail("repository root not found at " + path + " (set -Dlinkbase.repo.root)");
        }
        return path;
    }

    /**
     * Fails (never skips) when a renderer is missing: a skipped check would let a broken
     * manifest through unnoticed.
     */
    static String require(String command, String debianPackage) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, command);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return fail("'" + command + "' is not on the PATH; install the Debian package '" + debianPackage
            + "' (apt-get install -y " + debianPackage + "); .ci/run installs it for CI");
    }

    static Result run(Path workDir, Map<String, String> env, List<String> command) {
        try {
            ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).directory(workDir.toFile());
            // A developer's own secrets or COMPOSE_* settings must not change what is checked.
            pb.environment().keySet().removeIf(k -> k.startsWith("LINKBASE_") || k.startsWith("COMPOSE_"));
            pb.environment().putAll(env);
            Path out = Files.createTempFile("deploy-test", ".out");
            Path err = Files.createTempFile("deploy-test", ".err");
            try {
                pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
                Process process = pb.start();
                process.getOutputStream().close();
                if (!process.waitFor(120, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    return fail(String.join(" ", command) + " did not finish in 120 s");
                }
                return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            return fail("cannot run " + command + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted");
        }
    }
}
