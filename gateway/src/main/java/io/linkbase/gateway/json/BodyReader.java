package io.linkbase.gateway.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.linkbase.gateway.errors.Problem;
import io.micronaut.core.beans.BeanIntrospection;
import io.micronaut.core.beans.BeanProperty;
import io.micronaut.core.type.Argument;
import jakarta.validation.constraints.NotNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * A request body as a typed record ({@code @Introspected}, so read without reflection), strictly:
 * an unknown field, a field of the wrong JSON type or a missing {@link NotNull} field is a 400
 * {@code validation_failed} that names it ({@code columns[2].type}) — the error bodies of
 * API.md. Record components may be {@code String}, {@code Boolean}, {@code ObjectNode} (an
 * object read further by the caller, e.g. values typed by the table's columns), {@code JsonNode}
 * (any JSON, checked by the caller) or a {@code List} of such records. Bodies are bounded as
 * before ({@link Json#object(String, Set)}). Not for the batch endpoint, which reads its bytes
 * itself (docs/decisions.md "Import speed").
 */
public final class BodyReader {
    private static final Map<Class<?>, Set<String>> FIELDS = new ConcurrentHashMap<>();

    private BodyReader() {
    }

    public static <T> T read(String body, Class<T> type) {
        BeanIntrospection<T> introspection = BeanIntrospection.getIntrospection(type);
        return instantiate(introspection, Json.object(body, fields(introspection)), "");
    }

    private static Set<String> fields(BeanIntrospection<?> introspection) {
        return FIELDS.computeIfAbsent(introspection.getBeanType(), t -> introspection.getBeanProperties().stream()
            .map(BeanProperty::getName).collect(Collectors.toUnmodifiableSet()));
    }

    private static <T> T instantiate(BeanIntrospection<T> introspection, ObjectNode in, String prefix) {
        Argument<?>[] arguments = introspection.getConstructorArguments();
        Object[] values = new Object[arguments.length];
        for (int i = 0; i < arguments.length; i++) {
            Argument<?> a = arguments[i];
            Object value = field(in, a, prefix);
            if (value == null && a.getAnnotationMetadata().hasStereotype(NotNull.class)) {
                throw Problem.invalid(prefix + a.getName(), "is required");
            }
            values[i] = value;
        }
        return introspection.instantiate(values);
    }

    private static Object field(ObjectNode in, Argument<?> a, String prefix) {
        String name = a.getName();
        Class<?> type = a.getType();
        if (type == String.class) {
            return Json.text(in, name, prefix);
        }
        if (type == Boolean.class) {
            return Json.bool(in, name, prefix);
        }
        if (type == ObjectNode.class) {
            return Json.object(in, name, prefix, false);
        }
        if (type == JsonNode.class) {
            JsonNode n = in.get(name);
            return n == null || n.isNull() ? null : n;
        }
        if (type == List.class) {
            ArrayNode array = Json.array(in, name, prefix, false);
            if (array == null) {
                return null;
            }
            BeanIntrospection<?> element = BeanIntrospection.getIntrospection(a.getFirstTypeVariable().orElseThrow().getType());
            List<Object> list = new ArrayList<>(array.size());
            for (int i = 0; i < array.size(); i++) {
                String at = prefix + name + "[" + i + "]";
                if (!(array.get(i) instanceof ObjectNode o)) {
                    throw Problem.invalid(at, "must be an object");
                }
                Json.onlyFields(o, fields(element), at + ".");
                list.add(instantiate(element, o, at + "."));
            }
            return list;
        }
        throw new IllegalStateException("a body field of an unsupported type: " + type.getName() + " " + name);
    }
}
