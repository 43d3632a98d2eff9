package io.linkbase.devstack.postgres;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileOutputStream;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A half-unpacked PostgreSQL (no {@code .exists} marker) must not break every later start. */
class IncompleteUnpackTest {

    @Test
    void removesAnUnpackThatDiedHalfWayAndKeepsCompleteOnes(@TempDir Path work) throws Exception {
        Path broken = Files.createDirectories(work.resolve("PG-broken/lib"));
        Files.createSymbolicLink(broken.resolve("libicuuc.so"), Path.of("libicuuc.so.60.2"));
        Files.writeString(broken.resolve("libxml2.so.2"), "partial");
        Path complete = Files.createDirectories(work.resolve("PG-complete/bin"));
        Files.writeString(complete.resolve("postgres"), "binary");
        Files.createFile(work.resolve("PG-complete/.exists"));

        PostgresServerMain.removeIncompleteExtractions(work);

        try (var left = Files.list(work.resolve("PG-broken"))) {
            assertFalse(left.findAny().isPresent(), "the half unpack is emptied");
        }
        assertTrue(Files.exists(complete.resolve("postgres")), "a complete unpack stays");
    }

    @Test
    void leavesAnUnpackAnotherProcessIsDoing(@TempDir Path work) throws Exception {
        Path busy = Files.createDirectories(work.resolve("PG-busy/lib"));
        Files.writeString(busy.resolve("libssl.so.1.1"), "being written");
        // the lock is held by a forked process, as another JVM unpacking would hold it
        Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), LockHolder.class.getName(),
                work.resolve("PG-busy/epg-lock").toString()).redirectErrorStream(true).start();
        try {
            String ready = new String(holder.getInputStream().readNBytes(6));
            assertTrue(ready.startsWith("LOCKED"), ready);
            PostgresServerMain.removeIncompleteExtractions(work);
            assertTrue(Files.exists(busy.resolve("libssl.so.1.1")), "an unpack in progress is not touched");
        } finally {
            holder.destroy();
            holder.waitFor();
        }
    }

    /** Holds a file lock until killed. */
    public static final class LockHolder {
        public static void main(String[] args) throws Exception {
            try (FileOutputStream out = new FileOutputStream(args[0]); FileLock lock = out.getChannel().lock()) {
                System.out.print("LOCKED");
                System.out.flush();
                Thread.sleep(60_000);
            }
        }
    }
}
