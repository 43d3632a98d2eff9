package io.linkbase.search.opensearch;

/** OpenSearch refused or did not answer. */
public final class IndexFailure extends RuntimeException implements io.linkbase.kit.consumer.Failures.Classified {
    public final int status;

    public IndexFailure(int status, String message) {
        super(message);
        this.status = status;
    }

    public IndexFailure(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /**
     * A search's failure. The alias always names an index once the service is up, so a 404
     * means the index or its shard is not there <em>yet</em> (OpenSearch recovering after a
     * restart answers "all shards failed" with the status of a missing shard; an alias switched
     * by a rebuild while the search ran): the server's state, not the caller's mistake, so it
     * counts as unavailable (the gateway answers 503, never 500). A 400 stays a 400: our query.
     */
    public static IndexFailure ofSearch(int status, String message) {
        return new IndexFailure(status == 404 ? 503 : status, message);
    }

    /** Unreachable (503), overloaded (429) or failing (5xx): worth retrying; a 4xx is not. */
    @Override
    public boolean isTransient() {
        return status == 429 || status >= 500;
    }
}
