package io.linkbase.kit.consumer;

/**
 * Thrown by a handler whose event waits for an event of another aggregate, which may travel on
 * another partition (e.g. a link to a table whose creation has not been applied yet): the
 * consumer retries it, pausing only its partition, and never parks it. A wait that never ends
 * shows as the consumer failing in {@code /health}.
 */
public class NotYetException extends RuntimeException implements Failures.Classified {
    public NotYetException(String message) {
        super(message);
    }

    @Override
    public boolean isTransient() {
        return true;
    }
}
