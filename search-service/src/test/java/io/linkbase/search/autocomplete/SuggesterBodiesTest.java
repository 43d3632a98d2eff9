package io.linkbase.search.autocomplete;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.linkbase.search.targets.SchemaView;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;

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
    void theStartsWithStepIsStepOneWithOneMoreFilter() throws Exception {
        JsonNode expected = JSON.readTree(Suggester.inSummary("acme", LINK, Q, 7));
        ((com.fasterxml.jackson.databind.node.ArrayNode) expected.path("query").path("bool").path("filter"))
            .add(JSON.readTree("{\"match\":{\"summary.start\":%s}}".formatted(JSON.writeValueAsString(Q))));
        assertThat(JSON.readTree(Suggester.startingWith("acme", LINK, Q, 7))).isEqualTo(expected);
    }

    @Test
    void onlyQueriesOfAtMostTwoFoldedCharactersStartWithTheStartsWithStep() {
        assertThat(List.of("a", "M", "mo", "Mö", "ß", "a.", "\"é\"", "42")).allMatch(Suggester::startsWithFirst);
        assertThat(List.of("mot", "a b", "æb", "abc")).noneMatch(Suggester::startsWithFirst);
    }

    @Test
    void theSequenceStopsAtTheFirstFullPageAndTheStartsWithPageIsReplacedByStepOnesWhenShort() {
        List<String> sent = new ArrayList<>();
        // every search answers `found` hits, whatever it asked for
        java.util.function.IntFunction<List<String>> run = found -> {
            sent.clear();
            return Suggester.search("acme", LINK, "m", 5, body -> {
                sent.add(body);
                return CompletableFuture.completedFuture(new ArrayList<>(Collections.nCopies(found, "hit" + sent.size())));
            }).join();
        };
        String starts = Suggester.startingWith("acme", LINK, "m", 5);
        String summary = Suggester.inSummary("acme", LINK, "m", 5);
        assertThat(run.apply(5)).containsExactly("hit1", "hit1", "hit1", "hit1", "hit1");
        assertThat(sent).containsExactly(starts);
        assertThat(run.apply(3)).containsExactly("hit2", "hit2", "hit2", "hit3", "hit3", "hit3");
        assertThat(sent).containsExactly(starts, summary, Suggester.inOtherColumns("acme", LINK, "m", 2));

        sent.clear();
        Suggester.search("acme", LINK, "mot", 5, body -> {
            sent.add(body);
            return CompletableFuture.completedFuture(new ArrayList<>(Collections.nCopies(5, "hit")));
        }).join();
        assertThat(sent).containsExactly(Suggester.inSummary("acme", LINK, "mot", 5));
    }

    @Test
    void stepTwoMatchesAllTextColumnsButNotTheSummary() throws Exception {
        assertThat(JSON.readTree(Suggester.inOtherColumns("acme", LINK, Q, 3))).isEqualTo(JSON.readTree("""
            {"size":3,"track_total_hits":false,"_source":["record","summary","v.col\\\\2"],
             "query":{"bool":{
               "filter":[{"term":{"tenant":"acme"}},{"term":{"table":"tab\\"1"}}],
               "must":[{"constant_score":{"filter":{"match":{"text":{"query":%1$s,"operator":"and"}}}}}],
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
