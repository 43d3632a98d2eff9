package io.linkbase.gateway.api;

import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Publishes the OpenAPI document (kept in sync with the controllers by OpenApiDocumentTest). */
@Controller
class OpenApiController {
    private final String document;

    public OpenApiController() {
        try (InputStream in = OpenApiController.class.getResourceAsStream("/openapi.yml")) {
            document = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Get(value = "/openapi.yml", produces = "application/yaml")
    public HttpResponse<String> openApi() {
        return HttpResponse.ok(document).contentType("application/yaml");
    }
}
