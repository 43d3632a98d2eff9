package io.linkbase.gateway.api;

import io.linkbase.gateway.json.Limits;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Patch;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Put;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.io.InputStream;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** The published OpenAPI document and the controllers describe the same operations. */
class OpenApiDocumentTest {
    private static final List<Class<?>> CONTROLLERS = List.of(TenantsController.class, TablesController.class,
        LinksController.class, RecordsController.class, SuggestionsController.class);

    @Test
    @SuppressWarnings("unchecked")
    void everyRouteOfTheApiIsDocumentedAndNothingElse() throws Exception {
        Map<String, Object> doc;
        try (InputStream in = OpenApiController.class.getResourceAsStream("/openapi.yml")) {
            doc = new Yaml().load(in);
        }
        TreeSet<String> documented = new TreeSet<>();
        ((Map<String, Map<String, Object>>) doc.get("paths")).forEach((path, ops) -> ops.keySet().stream()
            .filter(k -> List.of("get", "put", "post", "patch", "delete").contains(k))
            .forEach(m -> documented.add(m.toUpperCase() + " " + path)));

        TreeSet<String> routed = new TreeSet<>();
        for (Class<?> c : CONTROLLERS) {
            String base = c.getAnnotation(Controller.class).value();
            for (Method m : c.getDeclaredMethods()) {
                for (String[] route : routes(m)) {
                    routed.add(route[0] + " " + (base + route[1]).replaceAll("/$", ""));
                }
            }
        }
        assertThat(routed).isNotEmpty();
        assertThat(documented).isEqualTo(routed);
    }

    /** docs/limits.md: every limit is in /openapi.yml, with the figures the gateway enforces. */
    @Test
    @SuppressWarnings("unchecked")
    void theLimitsAreDocumentedWithTheFiguresTheGatewayEnforces() throws Exception {
        Map<String, Object> doc;
        try (InputStream in = OpenApiController.class.getResourceAsStream("/openapi.yml")) {
            doc = new Yaml().load(in);
        }
        Map<String, Object> components = (Map<String, Object>) doc.get("components");
        Map<String, Object> problem = (Map<String, Object>) ((Map<String, Object>) components.get("responses")).get("Problem");
        assertThat(problem.toString()).contains("limit_exceeded", "payload_too_large");
        Map<String, Map<String, Object>> paths = (Map<String, Map<String, Object>>) doc.get("paths");
        // every operation that takes a body says it can be too large
        paths.forEach((path, ops) -> ops.forEach((method, op) -> {
            if (op instanceof Map<?, ?> o && o.containsKey("requestBody")) {
                assertThat(((Map<String, Object>) o.get("responses"))).as(method + " " + path).containsKey("413");
            }
        }));
        String text = doc.toString();
        assertThat(text).contains("maxItems=" + Limits.MAX_BATCH, "maxLength=" + Limits.MAX_Q,
            "maxLength=" + Limits.MAX_TEXT_BYTES, "maxItems=" + (Limits.MAX_COLUMNS - 1), "maxProperties=" + Limits.MAX_COLUMNS);
        String description = ((String) ((Map<String, Object>) doc.get("info")).get("description")).replaceAll("\\s+", " ");
        assertThat(description).contains(
            String.format("%,d", Limits.MAX_TEXT_BYTES), String.format("%,d", Limits.MAX_RECORD_BYTES),
            String.format("%,d", Limits.MAX_BATCH_BODY_BYTES), String.format("%,d", Limits.MAX_BODY_BYTES),
            String.format("%,d", Limits.MAX_BATCH), String.format("%,d", Limits.MAX_COLUMNS),
            String.format("%,d", Limits.MAX_DURATION.toDays()), "1e21", Limits.MAX_NUMBER_DIGITS + " significant digits",
            "at most " + Limits.MAX_NUMBER_FRACTION_DIGITS + " after the decimal point",
            "at most " + Limits.MAX_NUMBER_LENGTH + " characters", "at most " + Limits.MAX_Q + " characters",
            "at most " + Limits.MAX_NESTING_DEPTH + " levels", "years " + Limits.MIN_YEAR + " to " + Limits.MAX_YEAR);
    }

    private static List<String[]> routes(Method m) {
        List<String[]> routes = new ArrayList<>();
        if (m.isAnnotationPresent(Get.class)) {
            routes.add(new String[] {"GET", m.getAnnotation(Get.class).value()});
        }
        if (m.isAnnotationPresent(Post.class)) {
            routes.add(new String[] {"POST", m.getAnnotation(Post.class).value()});
        }
        if (m.isAnnotationPresent(Put.class)) {
            routes.add(new String[] {"PUT", m.getAnnotation(Put.class).value()});
        }
        if (m.isAnnotationPresent(Patch.class)) {
            routes.add(new String[] {"PATCH", m.getAnnotation(Patch.class).value()});
        }
        if (m.isAnnotationPresent(Delete.class)) {
            routes.add(new String[] {"DELETE", m.getAnnotation(Delete.class).value()});
        }
        return routes;
    }
}
