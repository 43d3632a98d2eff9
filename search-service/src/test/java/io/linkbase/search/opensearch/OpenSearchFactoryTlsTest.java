package io.linkbase.search.opensearch;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opensearch.client.transport.httpclient5.ApacheHttpClient5Transport;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import java.io.FileInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * search-service's OpenSearch client over https with basic auth, against a real TLS server whose
 * certificate (for "localhost") is made here with keytool: it trusts exactly the configured CA,
 * checks the host name, and sends the credentials with every request. (devstack's OpenSearch has
 * no security plugin; docs/decisions.md, "Credentials for every server".)
 */
class OpenSearchFactoryTlsTest {
    @TempDir
    static Path dir;
    static HttpsServer server;
    static Path ca;
    static final AtomicReference<String> AUTHORIZATION = new AtomicReference<>();

    @BeforeAll
    static void start() throws Exception {
        Path keystore = dir.resolve("node.p12");
        ca = dir.resolve("ca.pem");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(keytool, "-genkeypair", "-alias", "node", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
            "-dname", "CN=localhost", "-ext", "san=dns:localhost", "-storetype", "PKCS12",
            "-keystore", keystore.toString(), "-storepass", "changeit", "-keypass", "changeit");
        run(keytool, "-exportcert", "-rfc", "-alias", "node", "-keystore", keystore.toString(),
            "-storepass", "changeit", "-file", ca.toString());

        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(keystore.toFile())) {
            ks.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "changeit".toCharArray());
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.createContext("/", exchange -> {
            AUTHORIZATION.set(exchange.getRequestHeaders().getFirst("Authorization"));
            byte[] body = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
    }

    private static ApacheHttpClient5Transport client(String host, String username, String password, String caFile) {
        return new OpenSearchFactory().transport("https://" + host + ":" + server.getAddress().getPort(), username, password, caFile);
    }

    @Test
    void trustsTheConfiguredCaAndSendsTheCredentialsWithEveryRequest() throws Exception {
        try (ApacheHttpClient5Transport c = client("localhost", "linkbase", "s3cr:et", ca.toString())) {
            OpenSearchHttp http = new OpenSearchHttp(c);
            for (int i = 0; i < 2; i++) {
                AUTHORIZATION.set(null);
                assertThat(http.send("GET", "/", null).path("ok").asBoolean()).isTrue();
                assertThat(AUTHORIZATION.get()).isEqualTo("Basic " + java.util.Base64.getEncoder()
                    .encodeToString("linkbase:s3cr:et".getBytes(StandardCharsets.UTF_8)));
            }
        }
    }

    @Test
    void refusesANodeItsCaDidNotSignOrWhoseNameDiffers() throws Exception {
        // no CA configured: the JVM's public CAs do not know this certificate
        try (ApacheHttpClient5Transport c = client("localhost", "", "", "")) {
            assertThatThrownBy(() -> new OpenSearchHttp(c).send("GET", "/", null)).isInstanceOf(IndexFailure.class)
                .hasCauseInstanceOf(SSLHandshakeException.class);
        }
        // the right CA, but the certificate names localhost, not 127.0.0.1
        try (ApacheHttpClient5Transport c = client("127.0.0.1", "", "", ca.toString())) {
            assertThatThrownBy(() -> new OpenSearchHttp(c).send("GET", "/", null)).isInstanceOf(IndexFailure.class)
                .cause().hasMessageContaining("Certificate for <127.0.0.1> doesn't match");
        }
    }

    @Test
    void aCaFileWithoutCertificatesStopsTheService() throws Exception {
        Path empty = Files.writeString(dir.resolve("empty.pem"), "");
        assertThatThrownBy(() -> client("localhost", "", "", empty.toString()))
            .hasMessageContaining("empty.pem");
    }
}
