package io.linkbase.gateway.api;

import io.grpc.MethodDescriptor;
import io.linkbase.gateway.auth.Op;
import io.linkbase.gateway.auth.Operation;
import io.linkbase.proto.v1.LinkbaseGrpc;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Patch;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Put;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every operation of both faces is admitted by its role: a route or an rpc without an
 * {@link Operation} would be served to anyone, so adding one without a role fails here.
 */
class OperationsTest {
    private static final List<Class<?>> CONTROLLERS = List.of(TenantsController.class, TablesController.class,
        LinksController.class, RecordsController.class, SuggestionsController.class);

    @Test
    void everyHttpRouteNamesItsOperation() {
        List<String> without = new ArrayList<>();
        Set<Operation> named = EnumSet.noneOf(Operation.class);
        for (Class<?> c : CONTROLLERS) {
            for (Method m : c.getDeclaredMethods()) {
                boolean route = m.isAnnotationPresent(Get.class) || m.isAnnotationPresent(Post.class)
                    || m.isAnnotationPresent(Put.class) || m.isAnnotationPresent(Patch.class) || m.isAnnotationPresent(Delete.class);
                if (route && !m.isAnnotationPresent(Op.class)) {
                    without.add(c.getSimpleName() + "." + m.getName());
                } else if (route) {
                    named.add(m.getAnnotation(Op.class).value());
                }
            }
        }
        assertThat(without).isEmpty();
        // every operation but the stream (gRPC only) has its HTTP route
        assertThat(EnumSet.complementOf(EnumSet.copyOf(named))).containsExactly(Operation.SUGGEST_STREAM);
    }

    @Test
    void everyPublicGrpcMethodHasItsOperation() {
        List<String> without = new ArrayList<>();
        for (MethodDescriptor<?, ?> m : LinkbaseGrpc.getServiceDescriptor().getMethods()
            .stream().map(o -> (MethodDescriptor<?, ?>) o).toList()) {
            if (Operation.ofGrpcMethod(m.getFullMethodName()) == null) {
                without.add(m.getFullMethodName());
            }
        }
        assertThat(without).isEmpty();
        assertThat(Operation.ofGrpcMethod("grpc.health.v1.Health/Check")).isNull();
    }
}
