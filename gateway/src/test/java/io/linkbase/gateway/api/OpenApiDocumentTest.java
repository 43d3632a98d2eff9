package io.linkbase.gateway.api;

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
