package io.linkbase.schema.api;

import io.grpc.Status;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.proto.internal.v1.FieldViolation;
import io.linkbase.schema.table.TableRefusal;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Each kind of refusal reaches the caller with the status, code and field violations of API.md. */
class RefusalsTest {

    @Test
    void notFoundIsNotFound() {
        ApiException e = Refusals.toApi(TableRefusal.notFound("column c1"));
        assertThat(e.status().getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(e.code()).isEqualTo("not_found");
        assertThat(e.getMessage()).isEqualTo("column c1 not found");
        assertThat(e.info().getErrorsList()).isEmpty();
    }

    @Test
    void anInvalidFieldIsInvalidArgumentNamingTheField() {
        ApiException e = Refusals.toApi(TableRefusal.invalid("name", "must not be empty"));
        assertThat(e.status().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.code()).isEqualTo("validation_failed");
        assertThat(e.getMessage()).isEqualTo("name: must not be empty");
        assertThat(e.info().getErrorsList()).containsExactly(
            FieldViolation.newBuilder().setField("name").setMessage("must not be empty").build());
        ApiException notUnique = Refusals.toApi(TableRefusal.invalidAs("link_target_not_unique", "must be unique"));
        assertThat(notUnique.status().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(notUnique.code()).isEqualTo("link_target_not_unique");
        assertThat(notUnique.info().getErrorsList()).isEmpty();
    }

    @Test
    void aConflictIsFailedPreconditionAndATakenNameAlreadyExists() {
        ApiException conflict = Refusals.toApi(TableRefusal.conflict("link_target_in_use", "column a1 links here"));
        assertThat(conflict.status().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(conflict.code()).isEqualTo("link_target_in_use");
        ApiException taken = Refusals.toApi(TableRefusal.nameTaken("a column named 'x' exists"));
        assertThat(taken.status().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
        assertThat(taken.code()).isEqualTo("conflict");
        assertThat(taken.getMessage()).isEqualTo("a column named 'x' exists");
    }

    @Test
    void aLimitIsFailedPreconditionLimitExceededNamingTheField() {
        ApiException e = Refusals.toApi(TableRefusal.limitExceeded("tables", "a tenant has at most 3 tables"));
        assertThat(e.status().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(e.code()).isEqualTo("limit_exceeded");
        assertThat(e.info().getErrorsList()).containsExactly(
            FieldViolation.newBuilder().setField("tables").setMessage("a tenant has at most 3 tables").build());
    }

    @Test
    void everyKindIsMapped() {
        for (TableRefusal.Kind kind : TableRefusal.Kind.values()) {
            TableRefusal r = switch (kind) {
                case NOT_FOUND -> TableRefusal.notFound("x");
                case INVALID -> TableRefusal.invalid("f", "bad");
                case CONFLICT -> TableRefusal.conflict("conflict", "no");
                case ALREADY_EXISTS -> TableRefusal.nameTaken("taken");
                case LIMIT_EXCEEDED -> TableRefusal.limitExceeded("f", "too many");
            };
            assertThat(Refusals.toApi(r).status().getCode()).isNotIn(Status.Code.OK, Status.Code.UNKNOWN, Status.Code.INTERNAL);
        }
        assertThat(List.of(TableRefusal.Kind.values())).hasSize(5);
    }
}
