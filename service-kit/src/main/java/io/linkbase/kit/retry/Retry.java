package io.linkbase.kit.retry;

import java.util.Objects;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The one retry-with-backoff loop of the services: run a step; when it fails with a failure the
 * caller calls transient, pause (growing with each failure) and run it again, at most
 * {@code maxAttempts} times in all; any other failure, the last one, or an interrupt while
 * pausing (the interrupt flag is kept) ends the loop by rethrowing the failure as it was.
 */
public final class Retry {

    /** The pause after {@code failures} failures in a row (1 for the first failure). */
    @FunctionalInterface
    public interface Backoff {
        long delayMillis(int failures);

        /** {@code step}, 2·{@code step}, 3·{@code step} … at most {@code maxMillis}. */
        static Backoff linear(long stepMillis, long maxMillis) {
            return failures -> Math.min(stepMillis * Math.max(failures, 1), maxMillis);
        }

        /** {@code first}, 2·{@code first}, 4·{@code first} … at most {@code maxMillis}. */
        static Backoff exponential(long firstMillis, long maxMillis) {
            return failures -> Math.min(firstMillis << Math.min(Math.max(failures, 1) - 1, 30), maxMillis);
        }
    }

    /** Told before each pause: the failure, how many failures so far, and the pause to come. */
    @FunctionalInterface
    public interface Listener<E> {
        void retrying(E failure, int failures, long delayMillis);
    }

    /** Pauses between attempts; {@link Thread#sleep} outside tests. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    private Retry() {
    }

    /**
     * Runs {@code step} until it returns, retrying failures of {@code failureType} that
     * {@code isTransient} accepts, up to {@code maxAttempts} attempts in all.
     */
    public static <T, E extends RuntimeException> T call(Supplier<T> step, Class<E> failureType,
                                                         Predicate<? super E> isTransient, int maxAttempts,
                                                         Backoff backoff, Listener<? super E> onRetry) {
        return call(step, failureType, isTransient, maxAttempts, backoff, onRetry, Thread::sleep);
    }

    static <T, E extends RuntimeException> T call(Supplier<T> step, Class<E> failureType,
                                                  Predicate<? super E> isTransient, int maxAttempts,
                                                  Backoff backoff, Listener<? super E> onRetry, Sleeper sleeper) {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1: " + maxAttempts);
        }
        Objects.requireNonNull(step, "step");
        for (int attempt = 1; ; attempt++) {
            try {
                return step.get();
            } catch (RuntimeException failure) {
                if (!failureType.isInstance(failure)) {
                    throw failure;
                }
                E typed = failureType.cast(failure);
                if (attempt >= maxAttempts || !isTransient.test(typed)) {
                    throw failure;
                }
                long delay = backoff.delayMillis(attempt);
                onRetry.retrying(typed, attempt, delay);
                try {
                    sleeper.sleep(delay);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw failure;
                }
            }
        }
    }
}
