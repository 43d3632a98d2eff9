package io.linkbase.devstack.dev;

import io.linkbase.devstack.DevstackException;
import io.linkbase.devstack.KafkaServer;
import io.linkbase.devstack.LinkbaseServices;
import io.linkbase.devstack.ModuleProcess;
import io.linkbase.devstack.OpenSearchServer;
import io.linkbase.devstack.Ports;
import io.linkbase.devstack.PostgresServer;
import io.linkbase.devstack.Servers;
import io.linkbase.devstack.DataDirs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * {@code bin/linkbase dev}: the whole system on one machine, in the foreground.
 *
 * <p>Starts PostgreSQL (databases {@code linkbase_schema}, {@code linkbase_record},
 * {@code linkbase_search}), Kafka and OpenSearch — from {@code LINKBASE_POSTGRES_URL} /
 * {@code LINKBASE_KAFKA_BOOTSTRAP} / {@code LINKBASE_OPENSEARCH_URL} when set, else as devstack
 * runner JVMs with their data under {@code LINKBASE_DATA_DIR} (a temporary directory when
 * unset) — then schema-, record- and search-service and the gateway, each in its own JVM
 * through {@link ModuleProcess}. Prints {@code Linkbase is ready at http://localhost:<port>}
 * once every part answers, with the link that opens the web UI signed in (tenant {@code dev}, or
 * {@code demo} with {@code --demo}), and on Ctrl-C / SIGTERM stops the services, then the servers.
 */
public final class DevMain {

    private static final Predicate<String> SERVICE_ECHO = ModuleProcess.WARNINGS_AND_ERRORS
            .or(Pattern.compile("Startup completed").asPredicate());

    private volatile LinkbaseServices services;
    private final List<AutoCloseable> servers = new CopyOnWriteArrayList<>();
    private volatile boolean stopping;
    private Path dataDir;
    private boolean temporaryDataDir;

    public static void main(String[] args) {
        boolean demo = false;
        for (String a : args) {
            switch (a) {
                case "--demo" -> demo = true;
                case "-h", "--help" -> {
                    usage();
                    return;
                }
                default -> {
                    System.err.println("unknown option: " + a);
                    usage();
                    System.exit(2);
                }
            }
        }
        DevMain dev = new DevMain();
        Runtime.getRuntime().addShutdownHook(new Thread(dev::stop, "linkbase-dev-stop"));
        try {
            dev.run(demo);
        } catch (DevstackException | CompletionException | UncheckedIOException e) {
            Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (!dev.stopping) {
                System.err.println("\nLinkbase dev failed: " + t.getMessage());
            }
            System.exit(1);
        } catch (InterruptedException e) {
            System.exit(1);
        }
    }

    private static void usage() {
        System.out.println("""
                usage: bin/linkbase dev [--demo]
                  Runs Linkbase (PostgreSQL, Kafka, OpenSearch and the four services) in the foreground,
                  then prints a link that opens the web UI signed in; Ctrl-C stops everything.
                  --demo   also load the sample music database into tenant 'demo'
                environment: LINKBASE_HTTP_PORT (8080), LINKBASE_GRPC_PORT (9090), LINKBASE_JWT_SECRET
                  (generated when unset), LINKBASE_DATA_DIR (temporary when unset),
                  LINKBASE_POSTGRES_URL/_USER/_PASSWORD, LINKBASE_KAFKA_BOOTSTRAP, LINKBASE_OPENSEARCH_URL
                  (use those servers instead of starting them)""");
    }

    private void run(boolean demo) throws InterruptedException {
        long t0 = System.nanoTime();
        ModuleProcess.repoRoot(); // fail early, with the fix, outside a checkout
        int httpPort = envPort("LINKBASE_HTTP_PORT", LinkbaseServices.GATEWAY.httpPort());
        int grpcPort = envPort("LINKBASE_GRPC_PORT", LinkbaseServices.GATEWAY.grpcPort());
        for (Map.Entry<String, Integer> p : Map.of("LINKBASE_HTTP_PORT", httpPort, "LINKBASE_GRPC_PORT", grpcPort).entrySet()) {
            if (!Ports.isFree(p.getValue())) {
                throw new DevstackException("port " + p.getValue() + " is in use: stop what uses it or set " + p.getKey()
                        + " (is another bin/linkbase dev running?)");
            }
        }
        dataDir = dataDir();
        String secret = System.getenv("LINKBASE_JWT_SECRET");
        boolean generatedSecret = secret == null || secret.isBlank();
        if (generatedSecret) {
            byte[] bytes = new byte[32];
            new SecureRandom().nextBytes(bytes);
            secret = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        } else if (secret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
            throw new DevstackException("LINKBASE_JWT_SECRET must be at least 32 bytes (HS256)");
        }

        say("starting PostgreSQL, Kafka and OpenSearch (data in " + dataDir + ")");
        CompletableFuture<PostgresServer> pgF = async("PostgreSQL", () ->
                Servers.externalPostgres().orElseGet(() -> Servers.startPostgres(dataDir.resolve("postgres"))));
        CompletableFuture<KafkaServer> kafkaF = async("Kafka", () ->
                Servers.externalKafka().orElseGet(() -> Servers.startKafka(dataDir.resolve("kafka"))));
        CompletableFuture<OpenSearchServer> osF = async("OpenSearch", () ->
                Servers.externalOpenSearch().orElseGet(() -> Servers.startOpenSearch(dataDir.resolve("opensearch"))));
        CompletableFuture.allOf(pgF, kafkaF, osF).exceptionally(e -> null).join();
        PostgresServer pg = pgF.join();
        KafkaServer kafka = kafkaF.join();
        OpenSearchServer os = osF.join();
        say("starting schema-service, record-service, search-service, then the gateway");
        services = LinkbaseServices.builder(pg, kafka, os)
                .databasePrefix("linkbase_")
                .defaultPorts(true)
                .gatewayPorts(httpPort, grpcPort)
                .jwtSecret(secret)
                .logDir(dataDir.resolve("logs"))
                .echo(SERVICE_ECHO)
                .start();
        if (stopping) {
            services.close();
            return;
        }
        // Loaded before the ready line, so whoever waits for it can use the demo at once.
        List<String> demoLines = List.of();
        DemoData data = new DemoData("http://127.0.0.1:" + httpPort, secret);
        if (demo) {
            say("loading the demo music database into tenant '" + DemoData.TENANT + "'");
            demoLines = data.load();
        }
        String uiLink = data.uiLink(demo ? DemoData.TENANT : DemoData.DEV_TENANT);
        System.out.println();
        System.out.println("Linkbase is ready at http://localhost:" + httpPort
                + " (in " + (System.nanoTime() - t0) / 1_000_000_000 + " s)");
        System.out.println("  web UI      " + uiLink);
        System.out.println("              (open it in a browser: signed in as an owner of tenant '"
                + (demo ? DemoData.TENANT : DemoData.DEV_TENANT) + "')");
        System.out.println("  gRPC        localhost:" + grpcPort);
        System.out.println("  JWT secret  " + secret + (generatedSecret ? "   (generated: set LINKBASE_JWT_SECRET to keep one)" : ""));
        System.out.println("  PostgreSQL  " + pg.jdbcUrl("postgres") + " (user " + pg.user() + ")");
        System.out.println("  Kafka       " + kafka.bootstrapServers() + (kafka.username() == null ? ""
                : " (SASL_PLAINTEXT, SCRAM-SHA-256, user " + kafka.username() + ", password " + kafka.password() + ")"));
        System.out.println("  OpenSearch  " + os.httpUrl());
        System.out.println("  data        " + dataDir + (temporaryDataDir ? "   (temporary: deleted on exit; set LINKBASE_DATA_DIR to keep it)" : ""));
        System.out.println("  logs        " + dataDir.resolve("logs") + ", " + dataDir + "/{postgres,kafka,opensearch}/*.log");
        if (!demoLines.isEmpty()) {
            System.out.println();
            demoLines.forEach(System.out::println);
            System.out.println();
        }
        System.out.println("Press Ctrl-C to stop.");
        System.out.flush();

        watch();
    }

    /** Until stopped: if a child dies on its own, say so and stop everything. */
    private void watch() throws InterruptedException {
        while (!stopping) {
            for (ModuleProcess p : ModuleProcess.running()) {
                if (!p.isAlive() && !stopping) {
                    System.err.println("\n[devstack] " + p.name() + " exited unexpectedly (code " + p.exitCode().orElse(-1)
                            + "); last lines:\n" + p.outputTail(30) + p.logFile().map(f -> "\nfull log: " + f).orElse(""));
                    System.exit(1);
                }
            }
            Thread.sleep(1_000);
        }
    }

    /** The shutdown hook: services first (the gateway before the others), then the servers. */
    private void stop() {
        stopping = true;
        LinkbaseServices running = services;
        if (running == null && servers.isEmpty()) {
            return;
        }
        System.out.println("\n[devstack] stopping Linkbase ...");
        if (running != null) {
            running.close();
        }
        closeAll(new ArrayList<>(servers));
        if (temporaryDataDir && dataDir != null) {
            DataDirs.deleteRecursively(dataDir);
        }
        System.out.println("[devstack] stopped.");
        System.out.flush();
    }

    private static void closeAll(List<? extends AutoCloseable> all) {
        List<Thread> threads = new ArrayList<>();
        for (AutoCloseable c : all) {
            Thread t = new Thread(() -> {
                try {
                    c.close();
                } catch (Exception e) {
                    System.err.println("[devstack] stopping " + c + ": " + e);
                }
            });
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            try {
                t.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private <T> CompletableFuture<T> async(String what, Supplier<T> start) {
        return CompletableFuture.supplyAsync(() -> {
            long t = System.nanoTime();
            T started = start.get();
            if (started instanceof AutoCloseable c && !(started instanceof ModuleProcess)) {
                servers.add(c);
                if (stopping) {
                    try {
                        c.close();
                    } catch (Exception ignored) {
                        // stopping anyway
                    }
                }
            }
            say(what + " ready in " + (System.nanoTime() - t) / 1_000_000 + " ms" + (started instanceof ModuleProcess ? "" : ": " + started));
            return started;
        });
    }

    private Path dataDir() {
        String configured = System.getenv("LINKBASE_DATA_DIR");
        try {
            if (configured != null && !configured.isBlank()) {
                return Files.createDirectories(Path.of(configured).toAbsolutePath().normalize());
            }
            temporaryDataDir = true;
            return Files.createTempDirectory("linkbase-dev-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the data directory", e);
        }
    }

    private static int envPort(String name, int dflt) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new DevstackException(name + " must be a port number, got " + v);
        }
    }

    private static void say(String line) {
        System.out.println("[devstack] " + line);
    }
}
