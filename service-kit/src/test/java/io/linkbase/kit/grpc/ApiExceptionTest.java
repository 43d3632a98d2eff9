package io.linkbase.kit.grpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.linkbase.proto.internal.v1.ErrorInfo;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The error model between services: a status plus the API.md code, carried in the trailers. */
class ApiExceptionTest {
    @Test
    void eachKindHasItsStatusAndCode() {
        ApiException invalid = ApiException.invalid("name", "must not be blank");
        assertThat(invalid.status().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(invalid.code()).isEqualTo("validation_failed");
        assertThat(invalid.getMessage()).isEqualTo("name: must not be blank");
        assertThat(invalid.info().getErrorsList()).singleElement().satisfies(v -> {
            assertThat(v.getField()).isEqualTo("name");
            assertThat(v.getMessage()).isEqualTo("must not be blank");
        });

        ApiException notFound = ApiException.notFound("table t1");
        assertThat(notFound.status().getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(notFound.code()).isEqualTo("not_found");
        assertThat(notFound.status().getDescription()).isEqualTo("table t1 not found");

        ApiException conflict = ApiException.conflict("restricted_by_link", "3 records refer to it");
        assertThat(conflict.status().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(conflict.code()).isEqualTo("restricted_by_link");

        assertThat(ApiException.unauthenticated("no token").status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    }

    @Test
    void theCallerReadsTheCodeFromTheTrailersOrGetsInternal() {
        ApiException conflict = ApiException.conflict("restricted_by_link", "3 records refer to it");
        StatusRuntimeException onTheWire = conflict.toStatusException();
        assertThat(onTheWire.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(ApiException.infoOf(onTheWire)).isEqualTo(conflict.info());

        assertThat(ApiException.infoOf(Status.UNAVAILABLE.asRuntimeException()).getCode()).isEqualTo("internal");
    }

    @Test
    void aUnaryCallAnswersOnceAndNeverLeaksAnInternalMessage() {
        Recorder<String> ok = new Recorder<>();
        Calls.unary(ok, () -> "answer");
        assertThat(ok.values).containsExactly("answer");
        assertThat(ok.completed).isTrue();
        assertThat(ok.error).isNull();

        Recorder<String> refused = new Recorder<>();
        Calls.unary(refused, () -> {
            throw ApiException.notFound("record 7");
        });
        assertThat(refused.values).isEmpty();
        assertThat(refused.completed).isFalse();
        StatusRuntimeException e = (StatusRuntimeException) refused.error;
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(ApiException.infoOf(e).getCode()).isEqualTo("not_found");

        Recorder<String> broken = new Recorder<>();
        Calls.unary(broken, () -> {
            throw new IllegalStateException("password=hunter2 in a connection string");
        });
        StatusRuntimeException internal = (StatusRuntimeException) broken.error;
        assertThat(internal.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(internal.getStatus().getDescription()).isEqualTo("internal error");
        assertThat(ApiException.infoOf(internal)).isEqualTo(ErrorInfo.newBuilder().setCode("internal").build());
        assertThat(broken.values).isEmpty();
    }

    private static final class Recorder<T> implements StreamObserver<T> {
        final List<T> values = new ArrayList<>();
        Throwable error;
        boolean completed;

        @Override
        public void onNext(T value) {
            values.add(value);
        }

        @Override
        public void onError(Throwable t) {
            error = t;
        }

        @Override
        public void onCompleted() {
            completed = true;
        }
    }
}
