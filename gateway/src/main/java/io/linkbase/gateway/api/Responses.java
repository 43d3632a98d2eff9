package io.linkbase.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.json.Json;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;

/** Small helpers shared by the controllers. */
final class Responses {
    private Responses() {
    }

    static MutableHttpResponse<String> json(HttpStatus status, JsonNode body) {
        return HttpResponse.<String>status(status).contentType(MediaType.APPLICATION_JSON_TYPE).body(Json.write(body));
    }

    static MutableHttpResponse<String> ok(JsonNode body) {
        return json(HttpStatus.OK, body);
    }

    /** {@code If-Match: "<table version>"} → the expected version, or null without the header. */
    static Long expectedVersion(String ifMatch) {
        if (ifMatch == null || ifMatch.isBlank()) {
            return null;
        }
        String v = ifMatch.trim();
        if (v.startsWith("W/")) {
            v = v.substring(2);
        }
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            v = v.substring(1, v.length() - 1);
        }
        try {
            long version = Long.parseLong(v);
            if (version < 0) {
                throw new NumberFormatException();
            }
            return version;
        } catch (NumberFormatException e) {
            throw Problem.invalid("If-Match", "must be the table version in quotes, e.g. \"3\"");
        }
    }

    static long recordId(String raw) {
        try {
            long id = Long.parseLong(raw);
            if (id <= 0) {
                throw new NumberFormatException();
            }
            return id;
        } catch (NumberFormatException e) {
            throw Problem.notFound("record " + raw);
        }
    }

    static int intParam(String raw, String name, int min, int max, int dflt) {
        if (raw == null || raw.isBlank()) {
            return dflt;
        }
        try {
            int v = Integer.parseInt(raw.trim());
            if (v < min || v > max) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw Problem.invalid(name, "must be a whole number from " + min + " to " + max);
        }
    }
}
