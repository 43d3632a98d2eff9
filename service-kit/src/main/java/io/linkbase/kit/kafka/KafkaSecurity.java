package io.linkbase.kit.kafka;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * How a Kafka client proves who it is and checks the broker (docs/operations.md, "Server
 * credentials"): SASL/SCRAM (or PLAIN) with a user name and password, TLS with a CA to trust,
 * and mutual TLS with a key and certificate of our own. Nothing set: plaintext, no credentials.
 */
public final class KafkaSecurity {
    private static final Set<String> PROTOCOLS = Set.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");
    private static final Set<String> MECHANISMS = Set.of("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN");

    private KafkaSecurity() {
    }

    /**
     * The client properties for these settings (blank ones are unset).
     *
     * @param protocol   {@code security.protocol}; when blank: SASL_PLAINTEXT with a user name,
     *                   SSL with a key store, PLAINTEXT otherwise
     * @param mechanism  SCRAM-SHA-256 (blank), SCRAM-SHA-512 or PLAIN
     * @param truststore a PEM file of the CA certificates the broker's certificate is checked against
     * @param keystore   a PEM file with our private key and certificate chain (mutual TLS)
     */
    public static Map<String, String> clientProperties(String protocol, String mechanism, String username,
                                                       String password, String truststore, String keystore) {
        Map<String, String> p = new LinkedHashMap<>();
        boolean sasl = !blank(username);
        String proto = blank(protocol) ? (sasl ? "SASL_PLAINTEXT" : blank(keystore) ? "PLAINTEXT" : "SSL")
            : protocol.trim().toUpperCase(Locale.ROOT);
        if (!PROTOCOLS.contains(proto)) {
            throw new IllegalArgumentException("linkbase.kafka.security-protocol must be one of " + PROTOCOLS + ", got " + protocol);
        }
        if (proto.startsWith("SASL_") != sasl) {
            throw new IllegalArgumentException(sasl
                ? "a Kafka user name is set but linkbase.kafka.security-protocol " + proto + " sends no credentials"
                : "linkbase.kafka.security-protocol " + proto + " needs linkbase.kafka.username and password");
        }
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, proto);
        if (sasl) {
            String mech = blank(mechanism) ? "SCRAM-SHA-256" : mechanism.trim().toUpperCase(Locale.ROOT);
            if (!MECHANISMS.contains(mech)) {
                throw new IllegalArgumentException("linkbase.kafka.sasl-mechanism must be one of " + MECHANISMS + ", got " + mechanism);
            }
            if (blank(password)) {
                throw new IllegalArgumentException("linkbase.kafka.username is set without linkbase.kafka.password");
            }
            String module = mech.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
            p.put(SaslConfigs.SASL_MECHANISM, mech);
            p.put(SaslConfigs.SASL_JAAS_CONFIG, module + " required username=\"" + jaasQuoted(username)
                + "\" password=\"" + jaasQuoted(password) + "\";");
        }
        if (proto.endsWith("SSL")) {
            if (!blank(truststore)) {
                p.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
                p.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, truststore.trim());
            }
            if (!blank(keystore)) {
                p.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PEM");
                p.put(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, keystore.trim());
            }
        }
        return p;
    }

    private static String jaasQuoted(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
