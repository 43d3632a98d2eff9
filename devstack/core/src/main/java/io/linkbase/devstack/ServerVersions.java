package io.linkbase.devstack;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The one version of each server, from the root pom's properties ({@code postgres.server.version},
 * {@code kafka.broker.version}, {@code opensearch.server.version}) through a filtered resource:
 * the downloaded binaries, the container images and docker-compose.yml all use these.
 */
public final class ServerVersions {
    public static final String POSTGRES;
    public static final String KAFKA;
    public static final String OPENSEARCH;

    static {
        Properties p = new Properties();
        try (InputStream in = ServerVersions.class.getResourceAsStream("server-versions.properties")) {
            if (in == null) {
                throw new IllegalStateException("server-versions.properties missing from devstack's classpath");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        POSTGRES = require(p, "postgres");
        KAFKA = require(p, "kafka");
        OPENSEARCH = require(p, "opensearch");
    }

    private ServerVersions() {
    }

    private static String require(Properties p, String key) {
        String v = p.getProperty(key, "");
        if (v.isBlank() || v.contains("${")) {
            throw new IllegalStateException("server-versions.properties: " + key + " not filled in by Maven: " + v);
        }
        return v;
    }
}
