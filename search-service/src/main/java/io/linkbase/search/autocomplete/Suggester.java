package io.linkbase.search.autocomplete;

import io.linkbase.kit.grpc.ApiException;
import io.linkbase.proto.v1.CreateOption;
import io.linkbase.proto.v1.SuggestRequest;
import io.linkbase.proto.v1.SuggestResponse;
import io.linkbase.proto.v1.Suggestion;
import io.linkbase.proto.v1.Value;
import io.linkbase.search.index.Documents;
import io.linkbase.search.index.IndexReads;
import io.linkbase.search.index.IndexReads.Hit;
import io.linkbase.search.index.RecordsIndex;
import io.linkbase.search.opensearch.OpenSearchHttp;
import io.linkbase.search.targets.SchemaView;
import jakarta.inject.Singleton;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Autocomplete over a Link's target table. Words of {@code q} match word prefixes of the
 * record's text values through index-time edge n-grams (a term lookup per word, never a prefix
 * scan). The ranking puts every record whose summary matches above every record that matches only
 * in other columns, so the search runs in two steps:
 * <ol>
 *   <li>records whose <em>summary</em> matches, ranked by tier (exact summary, summary starts with
 *   q, word prefixes; constant scores, "starts with" one term of an edge n-gram field of the whole
 *   summary), each tier sorted by summary length, folded summary and id;</li>
 *   <li>only when that fills less than the page: records that match across all text columns but not
 *   in the summary, for the rest of the page.</li>
 * </ol>
 * The short prefixes that match most records (the expensive ones) almost always fill the page in
 * step 1, which matches one field instead of two; measured in docs/benchmarks.md. For a q of one or
 * two ASCII letters or digits (the prefixes that match most records), step 1 is preceded by a
 * cheaper, unscored search for the summaries that <em>start</em> with q, shortest first: those
 * (tiers 3 and 2) come first in the order, so when they fill the page it is step 1's page
 * ({@link #search}, the one sequence of searches). Empty {@code q}: the first records by display value.
 */
@Singleton
public class Suggester {
    public static final int DEFAULT_LIMIT = 10;
    public static final int MAX_LIMIT = 50;
    public static final int MAX_Q = 200;
    /** The longest q that first asks only for the summaries starting with it ({@link #startsWithFirst}). */
    static final int SHORT_Q = 2;

    private final SchemaView catalog;
    private final IndexReads index;

    public Suggester(SchemaView catalog, IndexReads index) {
        this.catalog = catalog;
        this.index = index;
    }

    public SuggestResponse suggest(String tenant, SuggestRequest request) {
        try {
            return suggestAsync(tenant, request).join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * Validates and looks up the Link on the caller's thread (bad input fails at once), then
     * searches without blocking: the answer is built on the OpenSearch client's I/O thread, one
     * thread hand-off fewer per request than a blocking call.
     */
    /**
     * The caller's ids, checked before any cache or OpenSearch work: the tenant as API.md has it,
     * table and column ids as UUIDs (so nothing a caller invents, of any length, becomes a cache key).
     */
    static void check(String tenant, SuggestRequest request) {
        if (!SchemaView.validTenant(tenant)) {
            throw ApiException.invalid("tenant", "must match [a-z0-9_-]{1,40}");
        }
        if (request.getTableId().isBlank()) {
            throw ApiException.invalid("tableId", "is required");
        }
        if (!SchemaView.validId(request.getTableId())) {
            throw ApiException.invalid("tableId", "must be a UUID");
        }
        if (request.getColumnId().isBlank()) {
            throw ApiException.invalid("columnId", "is required");
        }
        if (!SchemaView.validId(request.getColumnId())) {
            throw ApiException.invalid("columnId", "must be a UUID");
        }
    }

    public CompletableFuture<SuggestResponse> suggestAsync(String tenant, SuggestRequest request) {
        check(tenant, request);
        int limit = request.getLimit() == 0 ? DEFAULT_LIMIT : request.getLimit();
        if (limit < 1 || limit > MAX_LIMIT) {
            throw ApiException.invalid("limit", "must be between 1 and " + MAX_LIMIT);
        }
        if (request.getQ().length() > MAX_Q) {
            throw ApiException.invalid("q", "must be at most " + MAX_Q + " characters");
        }
        SchemaView.LinkTarget link = catalog.link(tenant, request.getTableId(), request.getColumnId())
            .orElseThrow(() -> ApiException.notFound("linked column"));
        String q = request.getQ().strip();
        List<String> words = Highlighter.words(q);
        SuggestResponse.Builder response = SuggestResponse.newBuilder().setQ(request.getQ());
        if (!q.isEmpty() && words.isEmpty()) {
            // only punctuation: nothing can match a word prefix
            return CompletableFuture.completedFuture(
                response.setCreateOption(CreateOption.newBuilder().setText(q)).build());
        }
        if (q.isEmpty()) {
            return index.searchHitsAsync(tenant, firstRecords(tenant, link, limit))
                .thenApply(found -> answer(found, link, q, words, response));
        }
        return search(tenant, link, q, limit, body -> index.searchHitsAsync(tenant, body), Hit::summary)
            .thenApply(hits -> answer(hits, link, q, words, response));
    }

    /**
     * The searches of one non-empty {@code q} (stripped, with at least one word), in order, and the
     * hits that make the page: each search runs only when the ones before it left the page short.
     * Public, with {@code send} posting a body and answering its hits and {@code summary} reading a
     * hit's summary, so that the benchmark's raw floor sends exactly the service's sequence of bodies.
     * <ol>
     *   <li>only for a {@linkplain #startsWithFirst short} q: {@link #startingWith}; its page is the
     *   answer when {@linkplain #startsPage complete};</li>
     *   <li>otherwise {@link #inSummary} (its page replaces the first step's hits);</li>
     *   <li>when that leaves the page short, {@link #inOtherColumns} for the rest.</li>
     * </ol>
     */
    public static <H> CompletableFuture<List<H>> search(
            String tenant, SchemaView.LinkTarget link, String q, int limit,
            Function<String, CompletableFuture<List<H>>> send,
            Function<H, String> summary) {
        CompletableFuture<List<H>> inSummary = startsWithFirst(q)
            ? send.apply(startingWith(tenant, link, q, limit))
                .thenCompose(hits -> startsPage(q, limit, hits, summary) ? CompletableFuture.completedFuture(hits)
                    : send.apply(inSummary(tenant, link, q, limit)))
            : send.apply(inSummary(tenant, link, q, limit));
        return inSummary.thenCompose(hits -> {
            if (hits.size() >= limit) {
                return CompletableFuture.completedFuture(hits);
            }
            return send.apply(inOtherColumns(tenant, link, q, limit - hits.size())).thenApply(more -> {
                List<H> page = new ArrayList<>(hits);
                page.addAll(more);
                return page;
            });
        });
    }

    /**
     * Whether {@link #startingWith} runs first: for a q of 1 to {@value #SHORT_Q} ASCII letters or
     * digits, the prefixes that match a large share of the table (the expensive ones), where the
     * records starting with q nearly always fill the page (for longer q the extra round trip would
     * more often be wasted). ASCII because then the index's folding of q (lowercase + asciifolding)
     * is q lowercased, of q's length, which {@link #startsPage} relies on.
     */
    static boolean startsWithFirst(String q) {
        if (q.isEmpty() || q.length() > SHORT_Q) {
            return false;
        }
        for (int i = 0; i < q.length(); i++) {
            char c = q.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether {@link #startingWith}'s hits are {@link #inSummary}'s page: a full page whose last
     * (longest) summary is longer than q. inSummary's page is its exact matches (score 4), then the
     * other summaries starting with q (score 2), each by length, folded summary and id, before every
     * other match (score 1). startingWith's page is the first summaries starting with q by length,
     * folded summary and id. The two are the same set unless an exact match E is left out, which
     * needs every hit to sort before E: E folds to q and folding never shortens a string, so E is at
     * most as long as q, and a hit of E's length sorts after E (its folded summary extends q), so
     * every hit would be shorter than q. {@link Ranking} then orders the set as ever.
     */
    static <H> boolean startsPage(String q, int limit, List<H> hits, Function<H, String> summary) {
        return hits.size() >= limit && summary.apply(hits.get(hits.size() - 1)).length() > q.length();
    }

    private static SuggestResponse answer(List<Hit> found, SchemaView.LinkTarget link, String q, List<String> words,
                                          SuggestResponse.Builder response) {
        List<Hit> ordered = q.isEmpty() ? found : new Ranking(words).order(found);
        for (Hit hit : ordered) {
            long recordId = hit.record();
            String summary = hit.summary();
            Value value = Documents.readValue(hit.values().path(link.targetColumnId()));
            if (value == null) {
                value = link.targetColumnId().equals(link.targetPrimaryKeyColumnId())
                    ? Value.newBuilder().setInteger(recordId).build()
                    : Value.newBuilder().setNullValue(com.google.protobuf.NullValue.NULL_VALUE).build();
            }
            response.addSuggestions(Suggestion.newBuilder().setRecordId(recordId).setValue(value).setSummary(summary)
                .setHighlight(Highlighter.highlight(summary, words)));
        }
        if (response.getSuggestionsCount() == 0 && !q.isEmpty()) {
            response.setCreateOption(CreateOption.newBuilder().setText(q));
        }
        return response.build();
    }

    /**
     * The final order of the hits OpenSearch chose (its scores put the right records in the
     * page): exact summary match, then summary prefix, then word prefixes of the summary, then
     * other columns; within each, shorter summaries first, then alphabetically, then by id, so
     * the order never depends on index statistics (a rebuilt index answers the same). Each hit's
     * folded summary and tier are computed once, not in every comparison.
     */
    static final class Ranking {
        private static final java.util.Comparator<Ranked> ORDER = java.util.Comparator.comparingInt(Ranked::tier).reversed()
            .thenComparingInt(r -> r.hit().summary().length())
            .thenComparing(Ranked::folded)
            .thenComparingLong(r -> r.hit().record());
        private final List<String> words;
        private final String folded;

        Ranking(List<String> words) {
            this.words = words;
            this.folded = String.join(" ", words);
        }

        private record Ranked(Hit hit, int tier, String folded) {
        }

        /** The hits in API.md's order (a stable sort: equal keys keep OpenSearch's order). */
        List<Hit> order(List<Hit> hits) {
            Ranked[] ranked = new Ranked[hits.size()];
            for (int i = 0; i < ranked.length; i++) {
                Hit hit = hits.get(i);
                List<String> summaryWords = Highlighter.words(hit.summary());
                String s = String.join(" ", summaryWords); // Highlighter.fold(summary)
                ranked[i] = new Ranked(hit, tier(s, summaryWords), s);
            }
            java.util.Arrays.sort(ranked, ORDER);
            List<Hit> ordered = new ArrayList<>(ranked.length);
            for (Ranked r : ranked) {
                ordered.add(r.hit());
            }
            return ordered;
        }

        /** 3 exact summary, 2 summary starts with q, 1 every word of q starts a word of the summary, 0 none of these. */
        private int tier(String foldedSummary, List<String> summaryWords) {
            if (foldedSummary.equals(folded)) {
                return 3;
            }
            if (foldedSummary.startsWith(folded)) {
                return 2;
            }
            for (String w : words) {
                boolean found = false;
                for (String sw : summaryWords) {
                    if (sw.startsWith(w)) {
                        found = true;
                        break;
                    }
                }
                if (!found) {
                    return 0;
                }
            }
            return 1;
        }
    }

    /*
     * The request bodies are written as text, not built as Jackson trees: rendering a tree took a
     * quarter of search-service's CPU per autocomplete (measured with JFR, docs/benchmarks.md).
     * Every value from the caller goes through OpenSearchHttp.quote; SuggesterBodiesTest pins the JSON.
     */

    /**
     * Step 1, records whose summary matches every word of {@code q} (public, with
     * {@link #inOtherColumns}, for the benchmark's raw baseline). The score is the tier alone, all
     * constant: 1 for a word-prefix match, +1 when the summary starts with q, +2 when it is q; the
     * sort then orders each tier by summary length, folded summary and id, exactly as
     * {@link Ranking} does. So the page is the true top of API.md's order over every match, however
     * many thousands there are (BM25 length norms and a rescored top 50 only approximated it).
     */
    public static String inSummary(String tenant, SchemaView.LinkTarget link, String q, int limit) {
        String quoted = OpenSearchHttp.quote(q);
        return open(tenant, link, limit)
            + ",\"must\":[{\"constant_score\":{\"filter\":" + summaryMatch(quoted) + ",\"boost\":1}}]"
            + ",\"should\":[{\"constant_score\":{\"filter\":{\"match\":{\"summary.kw\":" + quoted + "}},\"boost\":2}}"
            + ",{\"constant_score\":{\"filter\":" + startsWith(quoted) + ",\"boost\":1}}]}}"
            + ",\"sort\":[{\"_score\":{\"order\":\"desc\"}}," + SHORTER_FIRST + "]}";
    }

    /**
     * The first step for short q: {@link #inSummary}'s matches whose summary starts with q (tiers
     * 3 and 2, the clause that gives inSummary's +1), unscored and sorted by summary length,
     * folded summary and id only: a conjunction of filters, without inSummary's scoring and its
     * optional clauses to advance on every record (inSummary, once its page is full of scores of 2
     * and more, already visits only the records starting with q; docs/decisions.md has the
     * profile). {@link #startsPage} says when its hits are inSummary's page.
     */
    static String startingWith(String tenant, SchemaView.LinkTarget link, String q, int limit) {
        String quoted = OpenSearchHttp.quote(q);
        return open(tenant, link, limit, "," + startsWith(quoted) + "," + summaryMatch(quoted)) + "}}"
            + ",\"sort\":[" + SHORTER_FIRST + "]}";
    }

    /**
     * Step 2, records that match every word of {@code q} across their text columns, but not every
     * word in the summary. The summary is not repeated in {@code text} (documents index it once), so
     * each word must match in the summary or in the other columns: {@code cross_fields} with
     * {@code and} asks exactly that (both fields have the same search analyzer, so they form one
     * group in which every term must be found in either field).
     */
    public static String inOtherColumns(String tenant, SchemaView.LinkTarget link, String q, int limit) {
        String quoted = OpenSearchHttp.quote(q);
        return open(tenant, link, limit)
            + ",\"must\":[{\"constant_score\":{\"filter\":{\"multi_match\":{\"query\":" + quoted
            + ",\"type\":\"cross_fields\",\"fields\":[\"summary\",\"text\"],\"operator\":\"and\"}}}}]"
            + ",\"must_not\":[" + summaryMatch(quoted) + "]}}"
            + ",\"sort\":[" + SHORTER_FIRST + "]}";
    }

    /** Within a tier: shorter summaries first, then alphabetically (folded), then by id. */
    private static final String SHORTER_FIRST = "{\"" + RecordsIndex.SUMMARY_LENGTH + "\":{\"order\":\"asc\",\"missing\":\"_last\"}}"
        + ",{\"summary.kw\":{\"order\":\"asc\",\"missing\":\"_last\"}},{\"record\":{\"order\":\"asc\"}}";

    /** The summary starts with q: one term of the edge n-grams of the whole folded summary. */
    private static String startsWith(String quotedQ) {
        return "{\"match\":{\"summary.start\":" + quotedQ + "}}";
    }

    private static String summaryMatch(String quotedQ) {
        return "{\"match\":{\"summary\":{\"query\":" + quotedQ + ",\"operator\":\"and\"}}}";
    }

    static String firstRecords(String tenant, SchemaView.LinkTarget link, int limit) {
        return open(tenant, link, limit) + "}}"
            + ",\"sort\":[{\"summary.kw\":{\"order\":\"asc\",\"missing\":\"_last\"}},{\"record\":{\"order\":\"asc\"}}]}";
    }

    /** The start of a body, up to the open {@code query.bool} after its tenant and table filters. */
    private static String open(String tenant, SchemaView.LinkTarget link, int limit) {
        return open(tenant, link, limit, "");
    }

    /** The same, with {@code moreFilters} (each preceded by a comma) after the tenant and table filters. */
    private static String open(String tenant, SchemaView.LinkTarget link, int limit, String moreFilters) {
        return "{\"size\":" + limit + ",\"track_total_hits\":false"
            + ",\"_source\":[\"record\",\"summary\"," + OpenSearchHttp.quote("v." + link.targetColumnId()) + "]"
            + ",\"query\":{\"bool\":{\"filter\":[{\"term\":{\"tenant\":" + OpenSearchHttp.quote(tenant) + "}}"
            + ",{\"term\":{\"table\":" + OpenSearchHttp.quote(link.targetTableId()) + "}}" + moreFilters + "]";
    }
}
