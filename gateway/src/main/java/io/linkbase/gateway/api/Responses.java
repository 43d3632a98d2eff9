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

    /**
     * Table and column ids are UUIDs: anything else (malformed or overlong) is an unknown id,
     * 404 like any other, and never reaches a service or a cache.
     */
    static void ids(String tableId, String columnId) {
        if (!isUuid(tableId)) {
            throw Problem.notFound("table " + shorten(tableId));
        }
        if (columnId != null && !isUuid(columnId)) {
            throw Problem.notFound("column " + shorten(columnId));
        }
    }

    static boolean isUuid(String s) {
        if (s == null || s.length() != 36) {
            return false;
        }
        for (int i = 0; i < 36; i++) {
            char c = s.charAt(i);
            boolean ok = (i == 8 || i == 13 || i == 18 || i == 23) ? c == '-'
                : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static String shorten(String s) {
        return s == null ? "" : s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }

    static long recordId(String raw) {
        try {
            long id = Long.parseLong(raw);
            if (id <= 0) {
                throw new NumberFormatException();
            }
            return id;
        } catch (NumberFormatException e) {
            throw Problem.notFound("record " + shorten(raw));
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
