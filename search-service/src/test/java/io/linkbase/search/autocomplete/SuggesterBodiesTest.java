package io.linkbase.search.autocomplete;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.linkbase.search.targets.SchemaView;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The search bodies are written as text: they must be exactly these queries, whatever the caller typed. */
class SuggesterBodiesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SchemaView.LinkTarget LINK = new SchemaView.LinkTarget("tab\"1", "col\\2", "pk");
    private static final String Q = "Motör \"head\" \\ \u0001 {x}";

    @Test
    void stepOneScoresTheTierAloneAndSortsEachTierShorterSummariesFirst() throws Exception {
        assertThat(JSON.readTree(Suggester.inSummary("acme", LINK, Q, 7))).isEqualTo(JSON.readTree("""
            {"size":7,"track_total_hits":false,"_source":["record","summary","v.col\\\\2"],
             "query":{"bool":{
               "filter":[{"term":{"tenant":"acme"}},{"term":{"table":"tab\\"1"}}],
               "must":[{"constant_score":{"filter":{"match":{"summary":{"query":%1$s,"operator":"and"}}},"boost":1}}],
               "should":[{"constant_score":{"filter":{"match":{"summary.kw":%1$s}},"boost":2}},
                         {"constant_score":{"filter":{"match":{"summary.start":%1$s}},"boost":1}}]}},
             "sort":[{"_score":{"order":"desc"}},{"summary_len":{"order":"asc","missing":"_last"}},
                     {"summary.kw":{"order":"asc","missing":"_last"}},{"record":{"order":"asc"}}]}
            """.formatted(JSON.writeValueAsString(Q))));
    }

    @Test
    void stepTwoMatchesEachWordInTheSummaryOrTheOtherColumnsButNotAllInTheSummary() throws Exception {
        assertThat(JSON.readTree(Suggester.inOtherColumns("acme", LINK, Q, 3))).isEqualTo(JSON.readTree("""
            {"size":3,"track_total_hits":false,"_source":["record","summary","v.col\\\\2"],
             "query":{"bool":{
               "filter":[{"term":{"tenant":"acme"}},{"term":{"table":"tab\\"1"}}],
               "must":[{"constant_score":{"filter":{"multi_match":{"query":%1$s,"type":"cross_fields",
                 "fields":["summary","text"],"operator":"and"}}}}],
               "must_not":[{"match":{"summary":{"query":%1$s,"operator":"and"}}}]}},
             "sort":[{"summary_len":{"order":"asc","missing":"_last"}},
                     {"summary.kw":{"order":"asc","missing":"_last"}},{"record":{"order":"asc"}}]}
            """.formatted(JSON.writeValueAsString(Q))));
    }

    @Test
    void anEmptyQueryListsTheFirstRecordsByDisplayValue() throws Exception {
        JsonNode body = JSON.readTree(Suggester.firstRecords("acme", LINK, 10));
        assertThat(body).isEqualTo(JSON.readTree("""
            {"size":10,"track_total_hits":false,"_source":["record","summary","v.col\\\\2"],
             "query":{"bool":{"filter":[{"term":{"tenant":"acme"}},{"term":{"table":"tab\\"1"}}]}},
             "sort":[{"summary.kw":{"order":"asc","missing":"_last"}},{"record":{"order":"asc"}}]}
            """));
    }
}
