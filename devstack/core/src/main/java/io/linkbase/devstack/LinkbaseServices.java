package io.linkbase.devstack;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Predicate;

/**
 * The four Linkbase services, each in its own JVM, wired to the given servers the way they are
 * in production: schema-, record- and search-service each with its own database, search-service
 * calling record-service for backfills, the gateway calling all three. Used by
 * {@code bin/linkbase dev} and by the end-to-end tests, so both run the same system.
 */
public final class LinkbaseServices implements AutoCloseable {

    /** One service: its short name, module, main class and default ports. */
    public record Service(String name, String module, String mainClass, int httpPort, int grpcPort) {
    }

    public static final Service SCHEMA = new Service("schema", "schema-service", "io.linkbase.schema.Application", 8081, 9091);
    public static final Service RECORD = new Service("record", "record-service", "io.linkbase.record.Application", 8082, 9092);
    public static final Service SEARCH = new Service("search", "search-service", "io.linkbase.search.Application", 8083, 9093);
    public static final Service GATEWAY = new Service("gateway", "gateway", "io.linkbase.gateway.Application", 8080, 9090);
    public static final List<Service> BACKENDS = List.of(SCHEMA, RECORD, SEARCH);

    private final Map<String, ModuleProcess> processes = new LinkedHashMap<>();
    private final Map<String, Integer> httpPorts = new LinkedHashMap<>();
    private final Map<String, Integer> grpcPorts = new LinkedHashMap<>();
    private final Map<String, String> databases = new LinkedHashMap<>();

    private LinkbaseServices() {
    }

    public static Builder builder(PostgresServer postgres, KafkaServer kafka, OpenSearchServer openSearch) {
        return new Builder(postgres, kafka, openSearch);
    }

    public int httpPort(Service s) {
        return httpPorts.get(s.name());
    }

    public int grpcPort(Service s) {
        return grpcPorts.get(s.name());
    }

    /** The database a backend owns. */
    public String database(Service s) {
        return databases.get(s.name());
    }

    public ModuleProcess process(Service s) {
        synchronized (processes) {
            return processes.get(s.name());
        }
    }

    public List<ModuleProcess> processes() {
        synchronized (processes) {
            return List.copyOf(processes.values());
        }
    }

    /**
     * {@code kill -9} of one service: no shutdown, its transactions and connections cut off
     * (see {@link ModuleProcess#kill()}). {@link #restart} brings it back.
     */
    public void kill(Service s) {
        process(s).kill();
    }

    /** SIGTERM, as Kubernetes stops a pod: returns once the service has shut down (see {@link ModuleProcess#close()}). */
    public void stop(Service s) {
        process(s).close();
    }

    /**
     * Starts a killed or stopped service again with the same ports, database and environment;
     * returns once its {@code /health} is UP.
     */
    public void restart(Service s) {
        ModuleProcess again = process(s).relaunch();
        synchronized (processes) {
            processes.put(s.name(), again);
        }
    }

    /** {@link #restart} that returns once the service answers HTTP at all, e.g. while a server it needs is down. */
    public void restartWithoutWaitingForHealth(Service s) {
        ModuleProcess again = process(s).relaunch(ModuleProcess.httpAnswers("http://127.0.0.1:" + httpPort(s) + "/health"));
        synchronized (processes) {
            processes.put(s.name(), again);
        }
    }

    /**
     * One more instance of a service, as the hosted deployment runs several: the same database,
     * servers and environment, its own HTTP and gRPC ports (a gateway keeps calling the first
     * instance of each backend; a second backend shares the consumer groups and the outbox
     * relay's work, a second gateway serves clients on its own port). Returns it
     * as a {@link Service} named {@code <name>-<n>}, for {@link #kill}, {@link #stop},
     * {@link #httpPort} and the like; {@link #close()} stops it with the rest.
     */
    public Service startAnother(Service s) {
        if (!BACKENDS.contains(s) && !GATEWAY.equals(s)) {
            throw new IllegalArgumentException("no service " + s.name());
        }
        ModuleProcess first = process(s);
        String name;
        synchronized (processes) {
            int n = 2;
            while (processes.containsKey(s.name() + "-" + n)) {
                n++;
            }
            name = s.name() + "-" + n;
            processes.put(name, first); // reserves the name until the new one runs
        }
        int http = Ports.free();
        int grpc = Ports.free();
        Service instance = new Service(name, s.module(), s.mainClass(), http, grpc);
        boolean gateway = GATEWAY.equals(s);
        ModuleProcess.Builder b = first.another().name(name)
            .env(gateway ? "LINKBASE_HTTP_PORT" : "MICRONAUT_SERVER_PORT", Integer.toString(http))
            .env(gateway ? "LINKBASE_GRPC_PORT" : "GRPC_SERVER_PORT", Integer.toString(grpc))
            .readyWhen(ModuleProcess.httpHealthUp("http://127.0.0.1:" + http + "/health"));
        first.logFile().ifPresent(f -> b.logFile(f.resolveSibling(name + ".log")));
        try {
            ModuleProcess p = b.start();
            synchronized (processes) {
                processes.put(name, p);
                httpPorts.put(name, http);
                grpcPorts.put(name, grpc);
                databases.put(name, databases.get(s.name()));
            }
            return instance;
        } catch (RuntimeException e) {
            synchronized (processes) {
                processes.remove(name);
            }
            throw e;
        }
    }

    /** Stops the gateway first (no new requests), then the backends. */
    @Override
    public void close() {
        ModuleProcess gateway = processes.get(GATEWAY.name());
        if (gateway != null) {
            gateway.close();
        }
        List<Thread> stops = new ArrayList<>();
        for (ModuleProcess p : processes.values()) {
            if (p != gateway) {
                Thread t = new Thread(p::close, "stop-" + p.name());
                t.start();
                stops.add(t);
            }
        }
        for (Thread t : stops) {
            try {
                t.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    public static final class Builder {
        private final PostgresServer postgres;
        private final KafkaServer kafka;
        private final OpenSearchServer openSearch;
        private String databasePrefix = "linkbase_";
        private boolean defaultPorts;
        private int gatewayHttp = -1;
        private int gatewayGrpc = -1;
        private String jwtSecret;
        private Path logDir;
        private Predicate<String> echo = ModuleProcess.WARNINGS_AND_ERRORS;
        private String[] jvmArgs = {"-Xms32m", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"};
        private final Map<String, String> extraEnv = new LinkedHashMap<>();

        private Builder(PostgresServer postgres, KafkaServer kafka, OpenSearchServer openSearch) {
            this.postgres = postgres;
            this.kafka = kafka;
            this.openSearch = openSearch;
        }

        /** Databases are {@code <prefix>schema}, {@code <prefix>record}, {@code <prefix>search}. */
        public Builder databasePrefix(String prefix) {
            this.databasePrefix = prefix;
            return this;
        }

        /** Prefer the documented ports (8081/9091, …) when free; otherwise any free port. */
        public Builder defaultPorts(boolean preferDefaults) {
            this.defaultPorts = preferDefaults;
            return this;
        }

        public Builder gatewayPorts(int http, int grpc) {
            this.gatewayHttp = http;
            this.gatewayGrpc = grpc;
            return this;
        }

        public Builder jwtSecret(String secret) {
            this.jwtSecret = secret;
            return this;
        }

        public Builder logDir(Path dir) {
            this.logDir = dir;
            return this;
        }

        public Builder echo(Predicate<String> echo) {
            this.echo = echo;
            return this;
        }

        public Builder jvmArgs(String... args) {
            this.jvmArgs = args.clone();
            return this;
        }

        /** An environment variable for every service (e.g. a rate limit for a test). */
        public Builder env(String name, String value) {
            extraEnv.put(name, value);
            return this;
        }

        /** Starts the backends in parallel, then the gateway; returns once all answer /health. */
        public LinkbaseServices start() {
            if (jwtSecret == null) {
                throw new DevstackException("the gateway needs a JWT secret (at least 32 bytes)");
            }
            LinkbaseServices s = new LinkbaseServices();
            for (Service b : BACKENDS) {
                s.httpPorts.put(b.name(), port(b.httpPort()));
                s.grpcPorts.put(b.name(), port(b.grpcPort()));
                s.databases.put(b.name(), databasePrefix + b.name());
                postgres.createDatabase(databasePrefix + b.name());
            }
            s.httpPorts.put(GATEWAY.name(), gatewayHttp > 0 ? gatewayHttp : port(GATEWAY.httpPort()));
            s.grpcPorts.put(GATEWAY.name(), gatewayGrpc > 0 ? gatewayGrpc : port(GATEWAY.grpcPort()));
            try {
                List<CompletableFuture<Void>> starts = new ArrayList<>();
                for (Service b : BACKENDS) {
                    ServiceWiring wiring = ServiceWiring.service()
                        .database(postgres, s.databases.get(b.name()))
                        .kafka(kafka)
                        .httpPort(s.httpPorts.get(b.name()))
                        .grpcPort(s.grpcPorts.get(b.name()));
                    if (b == SEARCH) {
                        wiring.openSearch(openSearch);
                    }
                    Map<String, String> env = new LinkedHashMap<>(wiring.environment());
                    if (b == SEARCH) {
                        env.put("LINKBASE_RECORD_GRPC", "127.0.0.1:" + s.grpcPorts.get(RECORD.name()));
                    }
                    env.putAll(extraEnv);
                    starts.add(CompletableFuture.runAsync(() -> launch(s, b, env)));
                }
                CompletableFuture.allOf(starts.toArray(CompletableFuture[]::new)).join();
                Map<String, String> env = new LinkedHashMap<>();
                env.put("LINKBASE_HTTP_PORT", String.valueOf(s.httpPorts.get(GATEWAY.name())));
                env.put("LINKBASE_GRPC_PORT", String.valueOf(s.grpcPorts.get(GATEWAY.name())));
                env.put("LINKBASE_JWT_SECRET", jwtSecret);
                env.put("LINKBASE_SERVICE_SECRET", ServiceWiring.SERVICE_SECRET);
                env.putAll(ServiceWiring.kafkaEnvironment(kafka));
                for (Service b : BACKENDS) {
                    env.put("LINKBASE_" + b.name().toUpperCase() + "_GRPC", "127.0.0.1:" + s.grpcPorts.get(b.name()));
                }
                env.putAll(extraEnv);
                launch(s, GATEWAY, env);
                return s;
            } catch (RuntimeException e) {
                s.close();
                throw e instanceof CompletionException && e.getCause() instanceof RuntimeException r ? r : e;
            }
        }

        private void launch(LinkbaseServices s, Service service, Map<String, String> env) {
            ModuleProcess.Builder b = ModuleProcess.builder(service.module(), service.mainClass())
                .name(service.name())
                .jvmArgs(jvmArgs)
                .env(env)
                .readyWhen(ModuleProcess.httpHealthUp("http://127.0.0.1:" + s.httpPorts.get(service.name()) + "/health"))
                .echo(echo)
                .startTimeout(Duration.ofSeconds(180))
                .stopTimeout(Duration.ofSeconds(30)); // beyond the services' 15 s graceful-shutdown period
            if (logDir != null) {
                b.logFile(logDir.resolve(service.name() + ".log"));
            }
            ModuleProcess p = b.start();
            synchronized (s.processes) {
                s.processes.put(service.name(), p);
            }
        }

        private int port(int preferred) {
            return defaultPorts ? Ports.preferred(preferred) : Ports.free();
        }
    }
}
