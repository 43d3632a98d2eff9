package io.linkbase.devstack;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A runner child JVM and the server it runs go away when the runner is closed, and also when
 * the JVM that started it dies without any chance to clean up (SIGKILL). Uses the PostgreSQL
 * runner, the hardest case: the postmaster is a daemon outside the runner JVM.
 */
class ChildLifecycleIT {

    private static Path tmp;

    @BeforeAll
    static void tmp() throws IOException {
        tmp = Files.createTempDirectory("linkbase-lifecycle-it-");
    }

    @AfterAll
    static void cleanup() {
        DataDirs.deleteRecursively(tmp);
    }

    /** The middle JVM of the SIGKILL test: starts a PostgreSQL runner, reports, then waits to be killed. */
    public static final class Intermediate {
        public static void main(String[] args) throws Exception {
            PostgresServer pg = Servers.startPostgres(Path.of(args[0]));
            long runnerPid = ProcessHandle.current().children()
                    .filter(p -> p.info().commandLine().orElse("").contains(Servers.POSTGRES_MAIN))
                    .findFirst().orElseThrow().pid();
            System.out.println("INTERMEDIATE-READY runner=" + runnerPid + " port=" + pg.port());
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
    }

    @Test
    void runnerAndPostgresDieWhenTheirParentIsKilled() throws Exception {
        Path dir = tmp.resolve("killed-parent");
        Process parent = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m",
                "-Dlinkbase.repo.root=" + ModuleProcess.repoRoot(),
                "-cp", System.getProperty("java.class.path"),
                Intermediate.class.getName(), dir.toString())
                .redirectErrorStream(true)
                .start();
        BlockingQueue<String> lines = drain(parent);
        Matcher ready = awaitLine(lines, Pattern.compile("INTERMEDIATE-READY runner=(\\d+) port=(\\d+)"), parent);
        long runnerPid = Long.parseLong(ready.group(1));
        int port = Integer.parseInt(ready.group(2));
        long postmasterPid = postmasterPid(dir.resolve("pgdata"));

        assertTrue(alive(runnerPid), "runner JVM running");
        assertTrue(alive(postmasterPid), "postmaster running");
        assertTrue(Ports.isListening(port), "PostgreSQL listening on " + port);

        parent.destroyForcibly(); // SIGKILL: no shutdown hook runs in the parent
        assertTrue(parent.waitFor(10, TimeUnit.SECONDS));

        awaitGone(runnerPid, postmasterPid, port, Duration.ofSeconds(30));
    }

    @Test
    void closeStopsTheRunnerAndPostgres() throws Exception {
        Path dir = tmp.resolve("closed");
        PostgresServer pg = Servers.startPostgres(dir);
        long runnerPid = ProcessHandle.current().children()
                .filter(p -> p.info().commandLine().orElse("").contains(dir.toString()))
                .findFirst().orElseThrow().pid();
        long postmasterPid = postmasterPid(dir.resolve("pgdata"));
        assertTrue(alive(postmasterPid));
        assertTrue(Ports.isListening(pg.port()));

        pg.close(); // returns once the runner JVM exited, which it does after stopping PostgreSQL

        assertFalse(alive(runnerPid), "runner JVM still running after close()");
        assertFalse(alive(postmasterPid), "postmaster still running after close()");
        assertFalse(Ports.isListening(pg.port()), "port still open after close()");
        assertTrue(Files.readString(dir.resolve("postgres.log")).contains("LINKBASE-STOPPED postgres"));
    }

    private static void awaitGone(long runnerPid, long postmasterPid, int port, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!alive(runnerPid) && !alive(postmasterPid) && !Ports.isListening(port)) {
                return;
            }
            Thread.sleep(100);
        }
        fail("after " + timeout.toSeconds() + " s: runner alive=" + alive(runnerPid)
                + ", postmaster alive=" + alive(postmasterPid) + ", port open=" + Ports.isListening(port));
    }

    /** Running, not merely a zombie waiting for init to reap it (an orphaned postmaster that exited). */
    private static boolean alive(long pid) {
        if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException e) {
            return false; // gone meanwhile
        }
    }

    private static long postmasterPid(Path pgdata) throws IOException {
        List<String> lines = Files.readAllLines(pgdata.resolve("postmaster.pid"));
        assertFalse(lines.isEmpty());
        return Long.parseLong(lines.get(0).trim());
    }

    private static BlockingQueue<String> drain(Process p) {
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
                String line;
                while ((line = r.readLine()) != null) {
                    System.out.println("[intermediate] " + line);
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // process gone
            }
        });
        t.setDaemon(true);
        t.start();
        return lines;
    }

    private static Matcher awaitLine(BlockingQueue<String> lines, Pattern pattern, Process p) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(200, TimeUnit.MILLISECONDS);
            if (line != null) {
                Matcher m = pattern.matcher(line);
                if (m.find()) {
                    return m;
                }
            } else if (!p.isAlive()) {
                fail("intermediate JVM exited with " + p.exitValue() + " before it was ready");
            }
        }
        p.destroyForcibly();
        fail("intermediate JVM not ready in time");
        return null;
    }

    @Test
    void aChildThatFailsToStartIsReportedWithItsOutput() {
        DevstackException e = org.junit.jupiter.api.Assertions.assertThrows(DevstackException.class, () ->
                ModuleProcess.builder(Servers.POSTGRES_MODULE, Servers.POSTGRES_MAIN)
                        .args("--data-dir", tmp.resolve("no-port").toString()) // --port missing
                        .readyLine(ModuleProcess.READY_LINE)
                        .start());
        assertTrue(e.getMessage().contains("exited with code 1"), e.getMessage());
        assertTrue(e.getMessage().contains("missing --port"), e.getMessage());
    }

    @Test
    void aChildThatIsNotReadyInTimeIsStopped() throws Exception {
        Path dir = tmp.resolve("never-ready");
        long before = System.nanoTime();
        DevstackException e = org.junit.jupiter.api.Assertions.assertThrows(DevstackException.class, () ->
                ModuleProcess.builder(Servers.POSTGRES_MODULE, Servers.POSTGRES_MAIN)
                        .args("--port", Ports.free(), "--data-dir", dir.resolve("pgdata").toString())
                        .readyLine(Pattern.compile("A LINE NOBODY PRINTS"))
                        .startTimeout(Duration.ofSeconds(10))
                        .logFile(dir.resolve("postgres.log"))
                        .start());
        assertTrue(e.getMessage().contains("was not ready within 10 s"), e.getMessage());
        assertTrue(e.getMessage().contains("LINKBASE-READY"), "the output tail is in the message: " + e.getMessage());
        assertTrue(System.nanoTime() - before < TimeUnit.SECONDS.toNanos(60));
        // the runner was stopped with its server: its log ends with the clean stop
        assertTrue(Files.readString(dir.resolve("postgres.log")).contains("LINKBASE-STOPPED postgres"));
        // PostgreSQL removes its pid file when it shuts down cleanly
        assertFalse(Files.exists(dir.resolve("pgdata/postmaster.pid")), "PostgreSQL still running");
    }

    @Test
    void missingBuildNamesTheCommandToRun() {
        DevstackException e = org.junit.jupiter.api.Assertions.assertThrows(DevstackException.class,
                () -> ModuleProcess.classpath(ModuleProcess.repoRoot(), "devstack/no-such-module"));
        assertTrue(e.getMessage().contains("./mvnw -DskipTests package"), e.getMessage());
        Optional<Integer> port = ModuleProcess.readyPort("LINKBASE-READY port=5433 in 12 ms");
        assertEquals(Optional.of(5433), port);
        assertNotNull(ModuleProcess.ownCodeLocation());
    }
}
