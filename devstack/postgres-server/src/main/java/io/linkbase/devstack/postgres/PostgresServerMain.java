package io.linkbase.devstack.postgres;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs a real PostgreSQL 15 (zonky's embedded binaries; as root zonky starts them through
 * {@code unshare -U}) until this JVM is stopped.
 *
 * <pre>java -cp ... io.linkbase.devstack.postgres.PostgresServerMain --port 5432 --data-dir /some/dir</pre>
 *
 * <p>Prints {@code LINKBASE-READY port=N} once PostgreSQL accepts connections (superuser
 * {@code postgres}, trust authentication on 127.0.0.1). An existing data directory is reused
 * (no initdb), so data survives restarts. PostgreSQL runs as a daemon outside this JVM, so the
 * shutdown hook (SIGTERM, or the stdin watchdog that core launches every child with) stops it.
 */
public final class PostgresServerMain {

    private PostgresServerMain() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parse(args);
        int port = Integer.parseInt(require(opts, "port"));
        Path dataDir = Path.of(require(opts, "data-dir")).toAbsolutePath();
        Files.createDirectories(dataDir.getParent());

        long started = System.nanoTime();
        removeIncompleteExtractions(Path.of(System.getProperty("ot.epg.working-dir",
                Path.of(System.getProperty("java.io.tmpdir"), "embedded-pg").toString())));
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setPort(port)
                .setDataDirectory(dataDir)
                .setCleanDataDirectory(false)
                // we stop it ourselves, in order, from our own hook
                .setRegisterShutdownHook(false)
                .setPGStartupWait(Duration.ofSeconds(60))
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setServerConfig("max_connections", "200")
                .setServerConfig("shared_buffers", "64MB")
                .start();

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                pg.close();
                System.out.println("LINKBASE-STOPPED postgres");
            } catch (Exception e) {
                System.err.println("could not stop PostgreSQL: " + e);
            }
        }, "postgres-stop"));

        System.out.printf("LINKBASE-READY port=%d in %d ms%n", pg.getPort(), (System.nanoTime() - started) / 1_000_000);
        System.out.flush();
        // PostgreSQL runs outside this JVM; keep the JVM alive until it is told to stop.
        Thread.currentThread().join();
    }

    /**
     * zonky unpacks the binaries once per machine into {@code PG-<digest>} and marks success with
     * {@code .exists}. An unpack that died half-way (killed, out of memory) leaves a directory
     * without the marker that zonky then fails on forever ("FileAlreadyExists"). Such a directory
     * is removed here, unless another process holds its unpack lock right now.
     */
    static void removeIncompleteExtractions(Path workDir) throws java.io.IOException {
        if (!Files.isDirectory(workDir)) {
            return;
        }
        try (var dirs = Files.newDirectoryStream(workDir, "PG-*")) {
            for (Path dir : dirs) {
                if (Files.exists(dir.resolve(".exists"))) {
                    continue;
                }
                try (var channel = java.nio.channels.FileChannel.open(dir.resolve("epg-lock"),
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
                     var lock = channel.tryLock()) {
                    if (lock != null && !Files.exists(dir.resolve(".exists"))) {
                        System.out.println("[linkbase] removing an incomplete PostgreSQL unpack: " + dir);
                        try (var walk = Files.walk(dir)) {
                            walk.sorted(java.util.Comparator.reverseOrder())
                                    .filter(f -> !f.equals(dir))
                                    .forEach(f -> f.toFile().delete());
                        }
                    }
                } catch (java.nio.channels.OverlappingFileLockException e) {
                    // this JVM is unpacking it: leave it
                }
            }
        }
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
            }
            opts.put(args[i].substring(2), args[i + 1]);
        }
        return opts;
    }

    static String require(Map<String, String> opts, String name) {
        String v = opts.get(name);
        if (v == null) {
            throw new IllegalArgumentException("missing --" + name);
        }
        return v;
    }
}
