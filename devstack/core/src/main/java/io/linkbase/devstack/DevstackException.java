package io.linkbase.devstack;

/** Something the devstack could not do: a server or module that did not start, a missing build. */
public class DevstackException extends RuntimeException {

    public DevstackException(String message) {
        super(message);
    }

    public DevstackException(String message, Throwable cause) {
        super(message, cause);
    }
}
