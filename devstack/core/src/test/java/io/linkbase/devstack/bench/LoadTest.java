package io.linkbase.devstack.bench;

import org.junit.jupiter.api.Test;

import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The load generator counts every failure and time-out, and goes on after them. */
class LoadTest {
    @Test
    void aClosedLoopClientGoesOnAfterAFailureAndCountsIt() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        Load.Result r = Load.closedLoop(i -> {
            calls.incrementAndGet();
            if (i % 10 == 3) {
                throw new IllegalStateException("500 answered");
            }
            if (i % 10 == 7) {
                throw new java.io.UncheckedIOException(new SocketTimeoutException("Read timed out"));
            }
        }, 2, 1_000, Duration.ofMinutes(1));
        assertEquals(1_000, calls.get());
        assertEquals(800, r.count());
        assertEquals(100, r.failed());
        assertEquals(100, r.timedOut());
        assertTrue(r.line("x").contains("IllegalStateException: 500 answered=100"), r.line("x"));
        Load.Result deadlines = new Load.Result();
        deadlines.failed(new IllegalStateException("DEADLINE_EXCEEDED: deadline exceeded after 9.970615280s"));
        deadlines.failed(new IllegalStateException("DEADLINE_EXCEEDED: deadline exceeded after 9.912s"));
        assertEquals(2, deadlines.timedOut());
        assertTrue(deadlines.line("x").contains("after Ns=2"), deadlines.line("x"));
    }

    @Test
    void anOpenLoopRequestWithNoAnswerByTheGraceCountsAsTimedOut() throws Exception {
        Load.Result r = Load.openLoop(i -> {
            if (i == 5) {
                Thread.sleep(60_000);
            }
        }, 100, Duration.ofMillis(200), 8, Duration.ofMillis(300));
        assertEquals(19, r.count());
        assertEquals(1, r.timedOut());
        assertEquals(0, r.failed());
    }

    @Test
    void aPercentileNeedsTenSamplesBeyondIt() {
        assertEquals(20, Load.enoughFor(50));
        assertEquals(200, Load.enoughFor(95));
        assertEquals(1_000, Load.enoughFor(99));
        Load.Result r = new Load.Result();
        for (int i = 0; i < 999; i++) {
            r.ok(1_000_000);
        }
        assertTrue(Double.isNaN(r.p(99)));
        r.ok(1_000_000);
        assertEquals(1.0, r.p(99), 0.01);
        assertTrue(Load.ratio("x", 2, 1, true, 2.0, r).endsWith("met"));
        r.failed(new IllegalStateException("no"));
        assertTrue(Load.ratio("x", 2, 1, true, 2.0, r).contains("not valid"));
    }
}
