package io.linkbase.search.opensearch;

import io.linkbase.kit.consumer.Failures;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What a caller of autocomplete is told when OpenSearch refuses a search: retry, or our bug. */
class IndexFailureTest {
    @Test
    void aSearchOfAnIndexOrShardNotThereYetIsUnavailableNotInternal() {
        assertThat(Failures.isTransient(IndexFailure.ofSearch(404, "search: no such shard"), null)).isTrue();
        assertThat(Failures.isTransient(IndexFailure.ofSearch(503, "search: all shards failed"), null)).isTrue();
        assertThat(Failures.isTransient(IndexFailure.ofSearch(429, "search: rejected"), null)).isTrue();
    }

    @Test
    void aQueryOpenSearchCannotParseStaysAnInternalError() {
        assertThat(Failures.isTransient(IndexFailure.ofSearch(400, "search: parsing_exception"), null)).isFalse();
        // outside a search a 404 keeps its meaning (e.g. "no alias yet" on bootstrap)
        assertThat(new IndexFailure(404, "no alias").isTransient()).isFalse();
    }
}
