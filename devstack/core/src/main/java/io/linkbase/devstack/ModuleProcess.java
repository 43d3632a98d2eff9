package io.linkbase.devstack;

import io.linkbase.devstack.child.ChildMain;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One module of this repository running as its own JVM: the server runners of the devstack,
 * the four services (from e2e tests and {@code bin/linkbase dev}).
 *
 * <p>A launchable module declares the {@code maven-dependency-plugin} in its build plugins, so
 * {@code ./mvnw package} writes its runtime classpath to {@code target/linkbase.classpath}.
 * It is then started as
 * {@code java <jvmArgs> -cp <module>/target/classes:<linkbase.classpath> <main> <args>}
 * (through {@link ChildMain}, see below) with the extra environment variables given here.
 *
 * <pre>{@code
 * try (ModuleProcess schema = ModuleProcess.builder("schema-service", "io.linkbase.schema.Application")
 *         .name("schema")
 *         .jvmArgs("-Xmx256m", "-XX:TieredStopAtLevel=1")
 *         .env("MICRONAUT_SERVER_PORT", "8081")
 *         .env("DATASOURCES_DEFAULT_URL", postgres.jdbcUrl("linkbase_schema"))
 *         .readyWhen(ModuleProcess.httpHealthUp("http://127.0.0.1:8081/health"))
 *         .logFile(Path.of("target/schema.log"))
 *         .start()) {          // returns once ready; throws DevstackException with the log tail if not
 *     ...
 * }                             // SIGTERM, wait, then SIGKILL if it does not stop
 * }</pre>
 *
 * <p>Guarantees:
 * <ul>
 * <li>Output (stdout and stderr merged) is read continuously; every line goes to the log
 *     file (if set) and a ring buffer of the last lines; lines that match the echo filter
 *     (by default warnings, errors, exceptions and the ready line) are printed with a short
 *     {@code [name] } prefix.</li>
 * <li>{@link Builder#start()} returns once the child is ready: a line matched
 *     {@link Builder#readyLine(Pattern)} and/or {@link Builder#readyWhen(BooleanSupplier)} answered
 *     true. If the child exits first or the timeout passes, the child is stopped and a
 *     {@link DevstackException} carries the exit code and the last lines of its output.</li>
 * <li>The child dies with this JVM, even on SIGKILL: it runs under {@link ChildMain}, which
 *     exits when its stdin (a pipe whose write end only this JVM holds) reaches EOF.</li>
 * <li>On Linux the child runs in its own session ({@code setsid}), so a Ctrl-C in the terminal
 *     reaches only the parent, which then stops its children in the order it chooses.</li>
 * <li>{@link #close()} sends SIGTERM (the child's shutdown hooks run), waits for the stop
 *     timeout, then kills it and its descendants. A JVM shutdown hook closes every child still
 *     running, newest first.</li>
 * </ul>
 */
public final class ModuleProcess implements AutoCloseable {

    /** What the devstack runners print when they are ready: {@code LINKBASE-READY port=1234}. */
    public static final Pattern READY_LINE = Pattern.compile("LINKBASE-READY port=(\\d+)");

    /** The default echo filter: warnings, errors, exceptions, and our own ready/stopped lines. */
    public static final Predicate<String> WARNINGS_AND_ERRORS = Pattern.compile(
            "\\b(WARN|WARNING|ERROR|FATAL|SEVERE)\\b|Exception|LINKBASE-READY|LINKBASE-STOPPED|\\[linkbase\\]")
            .asPredicate();

    private static final int TAIL_LINES = 400;
    private static final List<ModuleProcess> RUNNING = new CopyOnWriteArrayList<>();

    static {
        // What a test (or a failed one) left running: services first, then the servers they
        // use, each wave in parallel. Not simply newest first: a server restarted by a fault
        // test is newer than the services, and stopped first it would leave each service
        // waiting on it for its whole stop timeout (and the build's fork being killed).
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            List<ModuleProcess> all = new ArrayList<>(RUNNING);
            closeAll(all.stream().filter(p -> !p.isServer()).toList());
            closeAll(all.stream().filter(ModuleProcess::isServer).toList());
        }, "linkbase-module-processes-stop"));
    }

    private final String name;
    private final Process process;
    private final List<String> command;
    private final Duration stopTimeout;
    private final Path logFile;
    private final Deque<String> tail = new ArrayDeque<>();
    private final Thread reader;
    private final Pattern readyLine;
    private final Predicate<String> echo;
    private final PrintStream out;
    private final BufferedWriter logWriter;
    private volatile String readyMatch;
    private volatile boolean closed;
    private final Builder builder;

    private ModuleProcess(Builder b, List<String> command) throws IOException {
        this.builder = b;
        this.name = b.name;
        this.command = List.copyOf(command);
        this.stopTimeout = b.stopTimeout;
        this.logFile = b.logFile;
        this.readyLine = b.readyLine;
        this.echo = b.echo;
        this.out = b.out;
        if (logFile != null) {
            Files.createDirectories(logFile.toAbsolutePath().getParent());
            this.logWriter = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } else {
            this.logWriter = null;
        }
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(b.workDir.toFile())
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.PIPE);
        pb.environment().putAll(b.env);
        this.process = pb.start();
        RUNNING.add(this);
        this.reader = new Thread(this::pump, "linkbase-output-" + name);
        this.reader.setDaemon(true);
        this.reader.start();
    }

    /**
     * @param module     the module folder relative to the repository root, e.g.
     *                   {@code "devstack/postgres-server"} or {@code "schema-service"}
     * @param mainClass  its main class
     */
    public static Builder builder(String module, String mainClass) {
        return new Builder(module, mainClass);
    }

    /** The children this JVM started that were not closed yet (oldest first), dead or alive. */
    public static List<ModuleProcess> running() {
        return List.copyOf(RUNNING);
    }

    /** The short name used as the output prefix. */
    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The exit code, if the child has exited. */
    public Optional<Integer> exitCode() {
        return process.isAlive() ? Optional.empty() : Optional.of(process.exitValue());
    }

    /** The line that matched the ready pattern, if one was given and matched. */
    public Optional<String> readyLine() {
        return Optional.ofNullable(readyMatch);
    }

    /** Where the full output goes, if a log file was set. */
    public Optional<Path> logFile() {
        return Optional.ofNullable(logFile);
    }

    /** The command line the child was started with. */
    public List<String> command() {
        return command;
    }

    /** The last lines of the child's output (up to a few hundred). */
    public List<String> recentOutput() {
        synchronized (tail) {
            return new ArrayList<>(tail);
        }
    }

    /** The last {@code n} lines of output, one per line, for error messages. */
    public String outputTail(int n) {
        List<String> lines = recentOutput();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    /** Blocks until the child exits or the timeout passes; returns whether it exited. */
    public boolean waitFor(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** SIGTERM, wait up to the stop timeout, then SIGKILL (the child and its descendants). Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (process.isAlive()) {
                List<ProcessHandle> descendants = process.descendants().toList();
                // SIGTERM through the handle: Process.destroy() would also close our end of the
                // child's stdout, losing what it prints while it shuts down
                process.toHandle().destroy();
                boolean exited = process.waitFor(stopTimeout.toMillis(), TimeUnit.MILLISECONDS);
                if (!exited) {
                    print("did not stop within " + stopTimeout.toSeconds() + " s; killing it");
                    descendants.forEach(ProcessHandle::destroyForcibly);
                    process.descendants().forEach(ProcessHandle::destroyForcibly);
                    process.toHandle().destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            }
            reader.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        } finally {
            closeQuietly(process.getOutputStream());
            RUNNING.remove(this);
            closeLog();
        }
    }

    /** A devstack server (PostgreSQL, Kafka, OpenSearch) rather than one of our services. */
    private boolean isServer() {
        return builder.module.startsWith("devstack/");
    }

    private static void closeAll(List<ModuleProcess> processes) {
        List<Thread> stopping = new ArrayList<>();
        for (ModuleProcess p : processes) {
            Thread t = new Thread(p::close, "linkbase-stop-" + p.name);
            t.start();
            stopping.add(t);
        }
        for (Thread t : stopping) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void closeLog() {
        if (logWriter != null) {
            synchronized (logWriter) {
                try {
                    logWriter.close();
                } catch (IOException ignored) {
                    // nothing to do
                }
            }
        }
    }

    /**
     * {@code kill -9}: the child gets no chance to finish anything (no shutdown hooks, open
     * transactions cut off), as when a machine or container dies. Its descendants are killed
     * too. Returns once it is gone. Fault-injection tests use it with {@link #relaunch()}.
     */
    public synchronized void kill() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            List<ProcessHandle> descendants = process.descendants().toList();
            process.toHandle().destroyForcibly();
            descendants.forEach(ProcessHandle::destroyForcibly);
            process.waitFor(30, TimeUnit.SECONDS);
            reader.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeQuietly(process.getOutputStream());
            RUNNING.remove(this);
            closeLog();
        }
    }

    /**
     * Starts the same module again, exactly as this one was started (command line, environment,
     * log file, which it appends to), once this one has stopped or been killed; waits for it
     * to be ready the same way.
     */
    public ModuleProcess relaunch() {
        return relaunch(builder.readyCheck);
    }

    /**
     * A builder with this process's settings, to start one more of the same module, e.g. a
     * second instance of a service on other ports (override what must differ, then start it).
     */
    public Builder another() {
        return builder.copy();
    }

    /** {@link #relaunch()} with another readiness check (e.g. "answers at all" while a server it needs is down). */
    public ModuleProcess relaunch(BooleanSupplier readyWhen) {
        if (process.isAlive()) {
            throw new IllegalStateException(name + " is still running (pid " + process.pid() + "): stop or kill it first");
        }
        return builder.copy().readyWhen(readyWhen).start();
    }

    @Override
    public String toString() {
        return "ModuleProcess[" + name + ", pid " + process.pid() + (process.isAlive() ? "" : ", exited") + "]";
    }

    // ------------------------------------------------------------------ output

    private void pump() {
        try (BufferedReader r = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                synchronized (tail) {
                    tail.addLast(line);
                    if (tail.size() > TAIL_LINES) {
                        tail.removeFirst();
                    }
                }
                if (logWriter != null) {
                    synchronized (logWriter) {
                        try {
                            logWriter.write(line);
                            logWriter.newLine();
                            logWriter.flush();
                        } catch (IOException ignored) {
                            // the log is closed: keep reading so the child never blocks
                        }
                    }
                }
                if (readyLine != null && readyMatch == null && readyLine.matcher(line).find()) {
                    readyMatch = line;
                }
                if (echo.test(line)) {
                    print(line);
                }
            }
        } catch (IOException e) {
            // stream closed: the child is gone
        }
    }

    private void print(String line) {
        String shown = line.length() > 400 ? line.substring(0, 400) + " ..." : line;
        out.println("[" + name + "] " + shown);
    }

    private void awaitReady(Builder b) {
        long deadline = System.nanoTime() + b.startTimeout.toNanos();
        long nextCheck = 0;
        boolean lineSeen = readyLine == null;
        boolean checkOk = b.readyCheck == null;
        try {
            while (true) {
                if (!lineSeen && readyMatch != null) {
                    lineSeen = true;
                }
                if (!checkOk && System.nanoTime() >= nextCheck) {
                    checkOk = b.readyCheck.getAsBoolean();
                    nextCheck = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(250);
                }
                if (lineSeen && checkOk) {
                    return;
                }
                if (!process.isAlive()) {
                    reader.join(2_000);
                    throw failure("exited with code " + process.exitValue() + " before it was ready");
                }
                if (System.nanoTime() > deadline) {
                    throw failure("was not ready within " + b.startTimeout.toSeconds() + " s");
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new DevstackException(name + ": interrupted while waiting for it to start", e);
        }
    }

    private DevstackException failure(String what) {
        close();
        StringBuilder msg = new StringBuilder()
                .append(name).append(" (").append(command.get(command.indexOf(ChildMain.class.getName()) + 1))
                .append(") ").append(what).append('.');
        if (logFile != null) {
            msg.append(" Full log: ").append(logFile.toAbsolutePath()).append('.');
        }
        msg.append("\n--- last lines of its output ---\n").append(outputTail(60));
        return new DevstackException(msg.toString());
    }

    private static void closeQuietly(OutputStream s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    // ------------------------------------------------------------------ statics

    /**
     * The repository root: system property {@code linkbase.repo.root}, else env
     * {@code LINKBASE_HOME}, else the nearest folder upwards from the current directory that
     * holds {@code mvnw} and {@code devstack/}.
     */
    public static Path repoRoot() {
        String prop = System.getProperty("linkbase.repo.root");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop).toAbsolutePath().normalize();
        }
        String env = System.getenv("LINKBASE_HOME");
        if (env != null && !env.isBlank()) {
            return Path.of(env).toAbsolutePath().normalize();
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("mvnw")) && Files.isDirectory(p.resolve("devstack"))) {
                return p;
            }
        }
        throw new DevstackException("Cannot find the Linkbase repository root from " + Path.of("").toAbsolutePath()
                + ": set -Dlinkbase.repo.root=... or LINKBASE_HOME, or run from inside the repository.");
    }

    /**
     * The launch classpath of a module: {@code target/classes} plus the entries of
     * {@code target/linkbase.classpath}. Fails with the command to run when either is missing.
     */
    public static String classpath(Path repoRoot, String module) {
        Path dir = repoRoot.resolve(module);
        Path classes = dir.resolve("target/classes");
        Path cpFile = dir.resolve("target/linkbase.classpath");
        if (!Files.isDirectory(classes) || !Files.isRegularFile(cpFile)) {
            throw new DevstackException("Module " + module + " is not built (" + (Files.isDirectory(classes) ? cpFile : classes)
                    + " is missing). Build it once with: cd " + repoRoot + " && ./mvnw -DskipTests package");
        }
        try {
            String deps = Files.readString(cpFile).trim();
            return deps.isEmpty() ? classes.toString() : classes + java.io.File.pathSeparator + deps;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A readiness check for {@link Builder#readyWhen}: GET {@code url} answers 200 with a body
     * containing {@code "status":"UP"} (Micronaut's {@code /health}).
     */
    public static BooleanSupplier httpHealthUp(String url) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).GET().build();
        Pattern up = Pattern.compile("\"status\"\\s*:\\s*\"UP\"");
        return () -> {
            try {
                HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
                return r.statusCode() == 200 && up.matcher(r.body()).find();
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        };
    }

    /** A readiness check: GET {@code url} gets any HTTP answer (the server listens, healthy or not). */
    public static BooleanSupplier httpAnswers(String url) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).GET().build();
        return () -> {
            try {
                client.send(request, HttpResponse.BodyHandlers.discarding());
                return true;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        };
    }

    /** The location (classes folder or jar) of this library, which holds {@link ChildMain}. */
    static String ownCodeLocation() {
        try {
            return Path.of(ChildMain.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Optional<String> setsid() {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            return Optional.empty();
        }
        return Arrays.stream(new String[] {"/usr/bin/setsid", "/bin/setsid"})
                .filter(p -> Files.isExecutable(Path.of(p)))
                .findFirst();
    }

    /** Builds and starts a {@link ModuleProcess}. */
    public static final class Builder {
        private final String module;
        private final String mainClass;
        private Path repoRoot;
        private String name;
        private final List<String> jvmArgs = new ArrayList<>();
        private final Map<String, String> env = new LinkedHashMap<>();
        private final List<String> args = new ArrayList<>();
        private Pattern readyLine;
        private BooleanSupplier readyCheck;
        private Duration startTimeout = Duration.ofSeconds(120);
        private Duration stopTimeout = Duration.ofSeconds(30);
        private Predicate<String> echo = WARNINGS_AND_ERRORS;
        private PrintStream out = System.out;
        private Path logFile;
        private Path workDir;

        private Builder(String module, String mainClass) {
            this.module = Objects.requireNonNull(module);
            this.mainClass = Objects.requireNonNull(mainClass);
            String[] parts = module.split("/");
            this.name = parts[parts.length - 1];
        }

        /** The repository root; default {@link ModuleProcess#repoRoot()}. */
        public Builder repoRoot(Path repoRoot) {
            this.repoRoot = repoRoot;
            return this;
        }

        /** The output prefix; default the module's folder name. */
        public Builder name(String name) {
            this.name = Objects.requireNonNull(name);
            return this;
        }

        public Builder jvmArgs(String... jvmArgs) {
            this.jvmArgs.addAll(List.of(jvmArgs));
            return this;
        }

        /** An environment variable for the child (on top of this JVM's environment). */
        public Builder env(String key, String value) {
            this.env.put(key, Objects.requireNonNull(value, key));
            return this;
        }

        public Builder env(Map<String, String> env) {
            env.forEach(this::env);
            return this;
        }

        /** Program arguments; {@code Object}s are passed as {@link String#valueOf}. */
        public Builder args(Object... args) {
            for (Object a : args) {
                this.args.add(String.valueOf(a));
            }
            return this;
        }

        /** Ready once an output line matches (e.g. {@link ModuleProcess#READY_LINE}). */
        public Builder readyLine(Pattern readyLine) {
            this.readyLine = readyLine;
            return this;
        }

        /** Ready once this answers true (polled every 250 ms), e.g. {@link ModuleProcess#httpHealthUp}. */
        public Builder readyWhen(BooleanSupplier readyCheck) {
            this.readyCheck = readyCheck;
            return this;
        }

        /** How long {@link #start()} waits for readiness; default 120 s. */
        public Builder startTimeout(Duration startTimeout) {
            this.startTimeout = startTimeout;
            return this;
        }

        /** How long {@link ModuleProcess#close()} waits after SIGTERM before it kills; default 30 s. */
        public Builder stopTimeout(Duration stopTimeout) {
            this.stopTimeout = stopTimeout;
            return this;
        }

        /** Which output lines are printed with the {@code [name] } prefix; default {@link #WARNINGS_AND_ERRORS}. */
        public Builder echo(Predicate<String> echo) {
            this.echo = Objects.requireNonNull(echo);
            return this;
        }

        /** Where echoed lines go; default {@code System.out}. */
        public Builder out(PrintStream out) {
            this.out = Objects.requireNonNull(out);
            return this;
        }

        /** Append the child's full output to this file. */
        public Builder logFile(Path logFile) {
            this.logFile = logFile;
            return this;
        }

        /** The child's working directory; default the repository root. */
        public Builder workDir(Path workDir) {
            this.workDir = workDir;
            return this;
        }

        /** The same settings, to start the module once more. */
        Builder copy() {
            Builder b = new Builder(module, mainClass);
            b.repoRoot = repoRoot;
            b.name = name;
            b.jvmArgs.addAll(jvmArgs);
            b.env.putAll(env);
            b.args.addAll(args);
            b.readyLine = readyLine;
            b.readyCheck = readyCheck;
            b.startTimeout = startTimeout;
            b.stopTimeout = stopTimeout;
            b.echo = echo;
            b.out = out;
            b.logFile = logFile;
            b.workDir = workDir;
            return b;
        }

        /** Starts the child and waits until it is ready (see the class comment). */
        public ModuleProcess start() {
            Path root = repoRoot != null ? repoRoot : ModuleProcess.repoRoot();
            if (workDir == null) {
                workDir = root;
            }
            String cp = classpath(root, module) + java.io.File.pathSeparator + ownCodeLocation();
            List<String> cmd = new ArrayList<>();
            setsid().ifPresent(cmd::add);
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(jvmArgs);
            cmd.add("-Dlinkbase.module=" + module);
            cmd.add("-cp");
            cmd.add(cp);
            cmd.add(ChildMain.class.getName());
            cmd.add(mainClass);
            cmd.addAll(args);
            ModuleProcess p;
            try {
                p = new ModuleProcess(this, cmd);
            } catch (IOException e) {
                throw new DevstackException("could not start " + name + ": " + e.getMessage(), e);
            }
            p.awaitReady(this);
            return p;
        }
    }

    /** The port number in a {@link #READY_LINE}, if the line has one. */
    static Optional<Integer> readyPort(String line) {
        Matcher m = READY_LINE.matcher(line == null ? "" : line);
        return m.find() ? Optional.of(Integer.parseInt(m.group(1))) : Optional.empty();
    }
}
