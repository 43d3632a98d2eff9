package io.linkbase.kit.kafka;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Kafka credentials and TLS from configuration (what the e2e suite's SASL broker exercises for real). */
class KafkaSecurityTest {

    @Test
    void nothingSetIsPlaintextWithoutCredentials() {
        assertThat(KafkaSecurity.clientProperties("", "", "", "", "", ""))
            .containsExactly(Map.entry("security.protocol", "PLAINTEXT"));
    }

    @Test
    void aUserNameMeansScramOverSaslWithAJaasLineQuotedSafely() {
        Map<String, String> p = KafkaSecurity.clientProperties("", "", "search-service", "pa\"ss\\word", "", "");
        assertThat(p).containsEntry("security.protocol", "SASL_PLAINTEXT").containsEntry("sasl.mechanism", "SCRAM-SHA-256")
            .containsEntry("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                + "username=\"search-service\" password=\"pa\\\"ss\\\\word\";");
    }

    @Test
    void saslOverTlsChecksTheBrokerAgainstThePemCaAndMutualTlsSendsOurKey() {
        Map<String, String> p = KafkaSecurity.clientProperties("sasl_ssl", "SCRAM-SHA-512", "u", "p", "/etc/linkbase/kafka-ca.pem", "");
        assertThat(p).containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.mechanism", "SCRAM-SHA-512")
            .containsEntry("ssl.truststore.type", "PEM").containsEntry("ssl.truststore.location", "/etc/linkbase/kafka-ca.pem")
            .doesNotContainKey("ssl.keystore.location");
        Map<String, String> mtls = KafkaSecurity.clientProperties("", "", "", "", "/ca.pem", "/me.pem");
        assertThat(mtls).containsEntry("security.protocol", "SSL").containsEntry("ssl.keystore.type", "PEM")
            .containsEntry("ssl.keystore.location", "/me.pem").doesNotContainKey("sasl.jaas.config");
    }

    @Test
    void contradictoryOrIncompleteSettingsStopTheServiceAtStartup() {
        assertThatThrownBy(() -> KafkaSecurity.clientProperties("SASL_SSL", "", "", "", "", ""))
            .hasMessageContaining("needs linkbase.kafka.username");
        assertThatThrownBy(() -> KafkaSecurity.clientProperties("SSL", "", "u", "p", "", ""))
            .hasMessageContaining("sends no credentials");
        assertThatThrownBy(() -> KafkaSecurity.clientProperties("", "", "u", "", "", ""))
            .hasMessageContaining("without linkbase.kafka.password");
        assertThatThrownBy(() -> KafkaSecurity.clientProperties("", "GSSAPI", "u", "p", "", ""))
            .hasMessageContaining("sasl-mechanism");
        assertThatThrownBy(() -> KafkaSecurity.clientProperties("TLS", "", "", "", "", ""))
            .hasMessageContaining("security-protocol");
    }

    @Test
    void everyClientOfAServiceCarriesTheCredentials() {
        KafkaSettings settings = new KafkaSettings("broker:9093", "", "", "record-service", "secret", "", "", 6, (short) 1,
            5, Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofMinutes(10), new SimpleMeterRegistry());
        for (Properties p : new Properties[] {settings.common(), settings.consumer("g", 10)}) {
            assertThat(p).containsEntry("bootstrap.servers", "broker:9093").containsEntry("security.protocol", "SASL_PLAINTEXT")
                .containsKey("sasl.jaas.config");
        }
    }
}
