package io.linkbase.kit.retry;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RetryTest {

    /** A failure that says whether trying again may help. */
    static final class StepFailure extends RuntimeException {
        final boolean transientFailure;

        StepFailure(String message, boolean transientFailure) {
            super(message);
            this.transientFailure = transientFailure;
        }
    }

    private final List<Long> slept = new ArrayList<>();
    private final List<String> told = new ArrayList<>();

    private <T> T call(java.util.function.Supplier<T> step, int maxAttempts, Retry.Backoff backoff) {
        return Retry.call(step, StepFailure.class, f -> f.transientFailure, maxAttempts, backoff,
            (f, failures, delay) -> told.add(f.getMessage() + "#" + failures + "@" + delay), slept::add);
    }

    @Test
    void transientFailuresAreRetriedWithTheBackoffsPausesUntilTheStepSucceeds() {
        AtomicInteger attempts = new AtomicInteger();
        String result = call(() -> {
            if (attempts.incrementAndGet() < 4) {
                throw new StepFailure("deadlock", true);
            }
            return "done";
        }, 10, Retry.Backoff.linear(50, 1_000));

        assertThat(result).isEqualTo("done");
        assertThat(attempts).hasValue(4);
        assertThat(slept).containsExactly(50L, 100L, 150L);
        assertThat(told).containsExactly("deadlock#1@50", "deadlock#2@100", "deadlock#3@150");
    }

    @Test
    void theLastFailureIsRethrownAsItWasOnceTheAttemptsAreUsedUp() {
        AtomicInteger attempts = new AtomicInteger();
        List<StepFailure> thrown = new ArrayList<>();
        Throwable last = org.assertj.core.api.Assertions.catchThrowable(() -> call(() -> {
            StepFailure f = new StepFailure("attempt " + attempts.incrementAndGet(), true);
            thrown.add(f);
            throw f;
        }, 3, Retry.Backoff.exponential(500, 60_000)));
        assertThat(attempts).hasValue(3);
        assertThat(last).isSameAs(thrown.get(2));
        assertThat(slept).containsExactly(500L, 1_000L);
    }

    @Test
    void aFailureThatIsNotTransientIsRethrownAtOnce() {
        AtomicInteger attempts = new AtomicInteger();
        StepFailure permanent = new StepFailure("constraint", false);
        assertThatThrownBy(() -> call(() -> {
            attempts.incrementAndGet();
            throw permanent;
        }, 10, Retry.Backoff.linear(50, 1_000))).isSameAs(permanent);
        assertThat(attempts).hasValue(1);
        assertThat(slept).isEmpty();
        assertThat(told).isEmpty();
    }

    @Test
    void aFailureOfAnotherTypeIsNeverRetried() {
        AtomicInteger attempts = new AtomicInteger();
        IllegalStateException bug = new IllegalStateException("bug");
        assertThatThrownBy(() -> call(() -> {
            attempts.incrementAndGet();
            throw bug;
        }, 10, Retry.Backoff.linear(50, 1_000))).isSameAs(bug);
        assertThat(attempts).hasValue(1);
    }

    @Test
    void anInterruptWhilePausingEndsTheLoopWithTheFailureAndKeepsTheInterruptFlag() {
        AtomicInteger attempts = new AtomicInteger();
        StepFailure failure = new StepFailure("lock timeout", true);
        try {
            assertThatThrownBy(() -> Retry.call(() -> {
                attempts.incrementAndGet();
                throw failure;
            }, StepFailure.class, f -> true, 10, Retry.Backoff.linear(50, 1_000), (f, n, d) -> { },
                millis -> {
                    throw new InterruptedException();
                })).isSameAs(failure);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
            assertThat(attempts).hasValue(1);
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void theRealSleeperPausesBetweenAttempts() {
        AtomicInteger attempts = new AtomicInteger();
        long start = System.nanoTime();
        int result = Retry.call(() -> {
            if (attempts.incrementAndGet() < 3) {
                throw new StepFailure("busy", true);
            }
            return attempts.get();
        }, StepFailure.class, f -> true, 3, Retry.Backoff.linear(20, 20), (f, n, d) -> { });
        assertThat(result).isEqualTo(3);
        assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(40);
    }

    @Test
    void backoffsGrowAndStopAtTheirCap() {
        Retry.Backoff linear = Retry.Backoff.linear(50, 1_000);
        assertThat(List.of(1, 2, 3, 20, 21, 1_000).stream().map(linear::delayMillis))
            .containsExactly(50L, 100L, 150L, 1_000L, 1_000L, 1_000L);
        Retry.Backoff exponential = Retry.Backoff.exponential(500, 60_000);
        assertThat(List.of(1, 2, 3, 4, 7, 8, 9, 100, Integer.MAX_VALUE).stream().map(exponential::delayMillis))
            .containsExactly(500L, 1_000L, 2_000L, 4_000L, 32_000L, 60_000L, 60_000L, 60_000L, 60_000L);
    }

    @Test
    void atLeastOneAttemptIsRequired() {
        assertThatThrownBy(() -> call(() -> "x", 0, Retry.Backoff.linear(1, 1)))
            .isInstanceOf(IllegalArgumentException.class);
    }
}
