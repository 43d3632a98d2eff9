package io.linkbase.gateway.ui;

import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;

/**
 * Headers of the web UI's static files (src/main/resources/public, served by Micronaut's static
 * resources at {@code /}). The page keeps the user's token in sessionStorage, so it must never run
 * a script that is not ours: the Content-Security-Policy allows only same-origin scripts, styles
 * and API calls (no inline script, no eval, no CDN), and no framing. The files are revalidated on
 * every load ({@code no-cache}), so a new gateway version is picked up at once.
 */
@ServerFilter({"/", "/index.html", "/app/**"})
class UiHeaders {
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

    @ResponseFilter
    public void headers(MutableHttpResponse<?> response) {
        response.header("Content-Security-Policy", CSP);
        response.header("X-Content-Type-Options", "nosniff");
        response.header("Referrer-Policy", "no-referrer");
        response.header("Cache-Control", "no-cache");
    }
}
