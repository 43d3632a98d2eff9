package io.linkbase.devstack;

/** A running OpenSearch 2.19 node, plain HTTP, no security plugin. */
public interface OpenSearchServer extends AutoCloseable {

    /** E.g. {@code http://127.0.0.1:9200} (no trailing slash). */
    String httpUrl();

    /** Stops the node if this object started it; a no-op for an external one. */
    @Override
    void close();
}
