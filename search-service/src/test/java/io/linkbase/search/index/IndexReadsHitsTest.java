package io.linkbase.search.index;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The autocomplete reads OpenSearch's answer as it streams: the same fields a tree would give. */
class IndexReadsHitsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static List<IndexReads.Hit> hits(String json) throws Exception {
        try (JsonParser p = JSON.createParser(json)) {
            return IndexReads.hits(p);
        }
    }

    @Test
    void eachSourceGivesRecordSummaryAndValuesWhateverElseTheAnswerHolds() throws Exception {
        List<IndexReads.Hit> hits = hits("{\"took\":3,\"hits\":{\"total\":{\"value\":2},\"hits\":["
            + "{\"_id\":\"x\",\"_source\":{\"summary\":\"Zoë <b>\",\"extra\":[1,{\"a\":2}],\"record\":42,"
            + "\"v\":{\"c1\":{\"text\":\"Zoë\"}}},\"sort\":[1]},"
            + "{\"_source\":{\"record\":\"7\",\"summary\":null}},"
            + "{\"_source\":{}}]},\"more\":{\"hits\":{\"hits\":[{\"_source\":{\"record\":9}}]}}}");
        assertThat(hits).hasSize(3);
        assertThat(hits.get(0).record()).isEqualTo(42);
        assertThat(hits.get(0).summary()).isEqualTo("Zoë <b>");
        assertThat(hits.get(0).values().path("c1").path("text").asText()).isEqualTo("Zoë");
        assertThat(hits.get(1).record()).isEqualTo(7);
        assertThat(hits.get(1).summary()).isEmpty();
        assertThat(hits.get(1).values().path("c1").isMissingNode()).isTrue();
        assertThat(hits.get(2).record()).isZero();
    }

    @Test
    void noMatchAndNoBodyAreNoHits() throws Exception {
        assertThat(hits("{}")).isEmpty();
        assertThat(hits("")).isEmpty();
        assertThat(IndexReads.hits(null)).isEmpty();
    }
}
