package io.linkbase.search.index;

import io.linkbase.proto.v1.Value;

import java.util.List;
import java.util.Map;

/** A change to one record's document: its id is {@code tenant:table:record}, routed by tenant. */
public sealed interface Doc {
    String tenant();

    String table();

    long record();

    /** The record_version: the document's external version. */
    long version();

    default String id() {
        return tenant() + ":" + table() + ":" + record();
    }

    /** The record as it is now: summary = the display value, texts = the other columns' text values (the summary is indexed once). */
    record Upsert(String tenant, String table, long record, long version, String summary, List<String> texts,
                  Map<String, Value> values) implements Doc {
    }

    record Delete(String tenant, String table, long record, long version) implements Doc {
    }
}
