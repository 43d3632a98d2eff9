package io.linkbase.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micronaut.core.annotation.Introspected;
import io.micronaut.core.annotation.Nullable;
import jakarta.validation.constraints.NotNull;

import java.util.List;

/**
 * The request bodies of API.md (all but the batch import's), as typed records read strictly by
 * json/BodyReader: a field not declared here is refused, {@code @NotNull} ones are required.
 */
final class Bodies {
    private Bodies() {
    }

    /** POST /tables. */
    @Introspected
    record CreateTable(@NotNull String name, @Nullable List<NewColumn> columns) {
    }

    /** A column of POST /tables, POST …/columns; PATCH …/columns/{id} changes the ones given. */
    @Introspected
    record NewColumn(@Nullable String name, @Nullable String type, @Nullable Boolean unique) {
    }

    /** PATCH /tables/{id}. */
    @Introspected
    record PatchTable(@Nullable String name, @Nullable String displayColumnId) {
    }

    /** PUT …/link. */
    @Introspected
    record LinkColumn(@NotNull String targetTableId, @Nullable String targetColumnId, @Nullable String onDelete) {
    }

    /** POST …/link/preview. */
    @Introspected
    record PreviewLink(@NotNull String targetTableId, @Nullable String targetColumnId) {
    }

    /** POST …/records: the values typed by the table's columns (RecordsController.values). */
    @Introspected
    record NewRecord(@Nullable ObjectNode values) {
    }

    /** PATCH …/records/{id}: the values to change. */
    @Introspected
    record RecordChange(@NotNull ObjectNode values) {
    }

    /** POST …/suggestions: "add a new record"; recordId is checked where its message is. */
    @Introspected
    record SuggestedRecord(@NotNull String text, @Nullable JsonNode recordId) {
    }
}
